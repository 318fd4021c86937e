package errtest

import (
	"reflect"
	"strings"
	"testing"
)

// Exported fails t if err's tree (through Unwrap, single or multiple)
// holds a value whose type is defined in an internal package: a caller
// outside the module cannot match it with errors.As.
func Exported(t testing.TB, err error) {
	t.Helper()
	if bad := internalTypes(err); len(bad) > 0 {
		t.Errorf("error %q has %s in its chain, which callers cannot match", err, strings.Join(bad, ", "))
	}
}

// internalTypes lists the internal types in err's tree.
func internalTypes(err error) []string {
	var bad []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		rt := reflect.TypeOf(e)
		if rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		if strings.Contains(rt.PkgPath()+"/", "/internal/") {
			bad = append(bad, reflect.TypeOf(e).String())
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return bad
}

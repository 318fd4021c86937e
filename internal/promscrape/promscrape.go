package promscrape

import (
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs url and parses the body in Prometheus's text format; a
// status other than 200, another content type or a body the parser
// refuses is an error.
func Scrape(client *http.Client, url string) (Families, error) {
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return nil, fmt.Errorf("promscrape: GET %s: %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("promscrape: the text parser refused %s: %w", url, err)
	}
	return fams, nil
}

// Value returns the value of the first series of family name whose labels
// include want (a counter's or gauge's value, a histogram's sample count),
// and whether there is one.
func (f Families) Value(name string, want map[string]string) (float64, bool) {
	m := f.Series(name, want)
	switch {
	case m == nil:
		return 0, false
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount()), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	}
	return 0, false
}

// Series returns the first series of family name whose labels include
// want, or nil.
func (f Families) Series(name string, want map[string]string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// Want is a series expected to hold a value: a family's name, labels its
// series includes, and the value (see Value).
type Want struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Mismatches returns one line for each of wants that f does not hold, so
// a test can report them all: for _, m := range f.Mismatches(...) { t.Error(m) }.
func (f Families) Mismatches(wants ...Want) []string {
	var out []string
	for _, w := range wants {
		v, ok := f.Value(w.Name, w.Labels)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s%v: no such series, want %g", w.Name, w.Labels, w.Value))
		case v != w.Value:
			out = append(out, fmt.Sprintf("%s%v = %g, want %g", w.Name, w.Labels, v, w.Value))
		}
	}
	return out
}

// Package errtest checks, in tests, that an error a user can see is one a
// caller can match: every value in its chain has a type the caller can
// name, so none comes from an internal package.
package errtest

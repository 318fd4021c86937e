// Package promscrape reads a /metrics endpoint as Prometheus does, for the
// tests of what serves one: a GET over HTTP, parsed by Prometheus's own
// text parser, and a lookup of one series by name and labels.
package promscrape

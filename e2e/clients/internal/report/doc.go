// Package report is how the e2e bots tell the test what their library
// parsed: one JSON object per line on stdout, the same for every bot in
// every language (the JavaScript and Python bots write the same lines).
package report

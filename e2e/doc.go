// Package e2e holds the browser test of `ipcord demo`: it starts the demo,
// drives its dashboard in headless Chromium (Debian's chromium package at
// /usr/bin/chromium), and checks the numbers go live and a message sent
// from the page comes back as an event.
//
// It is a module of its own so that chromedp stays out of ipcord's go.mod.
// The test fails, never skips, when Chromium is missing. Run it with
//
//	cd e2e && go test -race ./...
//
// and refresh the README's screenshot with
//
//	cd e2e && go test -run TestDashboardInBrowser -screenshot ../docs/demo.png
package e2e

// Package e2e holds ipcord's end-to-end tests, which run the built
// command as a user does:
//
//   - TestREADME follows README.md line by line on a fresh clone: every
//     shell command and Go snippet runs, in order, and prints what the
//     README says it prints (readme_parse_test.go has the rules a README
//     line must follow to be checked);
//   - TestDashboardInBrowser starts `ipcord demo`, drives its dashboard in
//     headless Chromium (Debian's chromium package at /usr/bin/chromium),
//     and checks the numbers go live and a message sent from the page
//     comes back as an event.
//
// It is a module of its own so that chromedp stays out of ipcord's go.mod.
// The tests fail, never skip, when Chromium, bash or curl is missing. Run
// them with
//
//	cd e2e && go test -race ./...
//
// and refresh the README's screenshot with
//
//	cd e2e && go test -run TestDashboardInBrowser -screenshot ../docs/demo.png
package e2e

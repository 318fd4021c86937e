module github.com/ipcord/ipcord/e2e

go 1.26.0

toolchain go1.26.11

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/ipcord/ipcord v0.0.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/goccy/go-json v0.12.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
)

replace github.com/ipcord/ipcord => ../

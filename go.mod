module github.com/ipcord/ipcord

go 1.26

require (
	github.com/coder/websocket v1.8.15
	github.com/goccy/go-json v0.12.0
	github.com/klauspost/compress v1.20.3
)

module github.com/ipcord/ipcord

go 1.26

require github.com/coder/websocket v1.8.15

require github.com/goccy/go-json v0.12.0

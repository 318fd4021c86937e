module github.com/ipcord/ipcord

go 1.26

require github.com/coder/websocket v1.8.15

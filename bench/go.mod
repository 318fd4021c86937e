module github.com/ipcord/ipcord/bench

go 1.26

replace github.com/ipcord/ipcord => ../

require github.com/coder/websocket v1.8.15

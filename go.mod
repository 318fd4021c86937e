module github.com/ipcord/ipcord

go 1.26

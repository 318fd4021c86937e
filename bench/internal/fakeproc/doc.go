// Package fakeproc builds the ipcord binary and runs `ipcord fake` as a
// child process for the bench commands that measure against it.
package fakeproc

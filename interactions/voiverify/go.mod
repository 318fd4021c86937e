module github.com/ipcord/ipcord/interactions/voiverify

go 1.26.0

toolchain go1.26.11

require github.com/ipcord/ipcord v0.0.0

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/goccy/go-json v0.12.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
)

require (
	github.com/oasisprotocol/curve25519-voi v0.0.0-20230904125328-1f23a7beb09a
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/ipcord/ipcord => ../..

package main

import (
	"errors"
	"flag"
	"io"

	"github.com/ipcord/ipcord/internal/cmdline"
	"github.com/ipcord/ipcord/ipc/natsipc"
	"github.com/nats-io/nats.go"
)

// natsFlags are the connection flags both commands share. Auth and TLS
// are NATS's own: a credentials file, or user:password in the URL, and TLS
// files.
type natsFlags struct {
	url, prefix, creds, tlsCA, tlsCert, tlsKey *string
}

func addNATSFlags(fs *flag.FlagSet) natsFlags {
	return natsFlags{
		url:     fs.String("nats", nats.DefaultURL, "NATS server URL(s), comma-separated"),
		prefix:  fs.String("prefix", "ipcord", "subject prefix shared by the clusters"),
		creds:   fs.String("creds", "", "NATS credentials file (JWT + nkey)"),
		tlsCA:   fs.String("tls-ca", "", "CA certificate file to verify the NATS server"),
		tlsCert: fs.String("tls-cert", "", "client certificate file (with --tls-key)"),
		tlsKey:  fs.String("tls-key", "", "client key file (with --tls-cert)"),
	}
}

// connect joins NATS as a node with cfg.
func (f natsFlags) connect(cfg natsipc.Config) (*natsipc.Node, error) {
	cfg.Prefix = *f.prefix
	var opts []nats.Option
	if *f.creds != "" {
		opts = append(opts, nats.UserCredentials(*f.creds))
	}
	if *f.tlsCA != "" {
		opts = append(opts, nats.RootCAs(*f.tlsCA))
	}
	if (*f.tlsCert == "") != (*f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if *f.tlsCert != "" {
		opts = append(opts, nats.ClientCert(*f.tlsCert, *f.tlsKey))
	}
	return natsipc.Connect(*f.url, cfg, opts...)
}

// newFlags returns a FlagSet for a subcommand that reports errors on
// stderr instead of exiting the process.
func newFlags(stderr io.Writer, name, usage string) *flag.FlagSet {
	return cmdline.NewFlagSet(stderr, "ipcord-nats", name, usage)
}

// parseFlags parses args allowing flags before and after positional
// arguments ("--" ends flags); see cmdline.Parse.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	return cmdline.Parse(fs, args)
}

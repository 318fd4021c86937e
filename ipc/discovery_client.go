package ipc

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

var (
	// ErrServerNotFound: discovery lists no server by the name asked for,
	// or none at all.
	ErrServerNotFound = errors.New("ipc: no such server in discovery")
	// ErrAmbiguousServer: discovery lists several servers and no name
	// was given to choose one.
	ErrAmbiguousServer = errors.New("ipc: several servers in discovery; choose one by name")
)

// DiscoverConfig says where a Discovery listens and how to reach it.
type DiscoverConfig struct {
	// Addr is the discovery listener: host:port (http://, or https://
	// when TLS or TLSConfig is set), or a full http:// or https:// URL.
	Addr string
	// Secret is sent as "Authorization: Bearer <secret>".
	Secret string
	// TLSConfig and TLS configure https, as in ClientConfig. Optional.
	TLSConfig *tls.Config
	TLS       ClientTLS
}

// Discover asks the Discovery at cfg.Addr for the servers of its process.
// A refused secret is an error matching ErrUnauthorized.
func Discover(ctx context.Context, cfg DiscoverConfig) ([]ServerInfo, error) {
	base := cfg.Addr
	useTLS := cfg.TLSConfig != nil || cfg.TLS != (ClientTLS{})
	if !strings.Contains(base, "://") {
		if useTLS {
			base = "https://" + base
		} else {
			base = "http://" + base
		}
	}
	tr := &http.Transport{ForceAttemptHTTP2: false, DisableKeepAlives: true}
	if useTLS || strings.HasPrefix(base, "https://") {
		tc, err := cfg.TLS.config(cfg.TLSConfig)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+DiscoveryPath, nil)
	if err != nil {
		return nil, fmt.Errorf("ipc: discovery address %q: %w", cfg.Addr, err)
	}
	if cfg.Secret != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Secret)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, tlsRefusal(fmt.Errorf("ipc: discovery: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("ipc: discovery: reading the reply: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%w: the discovery listener refused the secret", ErrUnauthorized)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: discovery answered status %d: %.200s", ErrVersion, resp.StatusCode, body)
	}
	var list struct {
		Servers []ServerInfo `json:"servers"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("ipc: discovery: bad reply: %w", err)
	}
	return list.Servers, nil
}

// PickServer chooses from a discovery listing: the server called name, or
// without a name the only one. Otherwise the error (ErrServerNotFound or
// ErrAmbiguousServer) lists the names there are.
func PickServer(servers []ServerInfo, name string) (ServerInfo, error) {
	names := make([]string, len(servers))
	for i, s := range servers {
		if name != "" && s.Name == name {
			return s, nil
		}
		names[i] = s.Name
	}
	switch {
	case len(servers) == 0:
		return ServerInfo{}, fmt.Errorf("%w: the listing is empty", ErrServerNotFound)
	case name != "":
		return ServerInfo{}, fmt.Errorf("%w: %q (servers: %s)", ErrServerNotFound, name, strings.Join(names, ", "))
	case len(servers) > 1:
		return ServerInfo{}, fmt.Errorf("%w (servers: %s)", ErrAmbiguousServer, strings.Join(names, ", "))
	}
	return servers[0], nil
}

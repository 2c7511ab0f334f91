package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Auth implements POST /auth (`docker login`): it checks the credentials against the registry's
// /v2/ endpoint, over plain HTTP for loopback and insecure registries as pulls do.
func (s *Store) Auth(ctx context.Context, cfg *registry.AuthConfig) (string, string, error) {
	host := cfg.ServerAddress
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
	host = strings.TrimSuffix(strings.TrimSuffix(host, "/"), "/v1")
	if host == "" || host == "index.docker.io" || host == "docker.io" {
		host = name.DefaultRegistry
	}
	var opts []name.Option
	if s.insecure.allows(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return "", "", errdefs.InvalidParameter(err)
	}
	rt, err := transport.NewWithContext(ctx, reg, authenticator(cfg), s.transport, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized {
			return "", "", errdefs.Unauthorized(fmt.Errorf("Get %q: unauthorized: incorrect username or password", reg.Scheme()+"://"+host+"/v2/"))
		}
		return "", "", errdefs.Unknown(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+host+"/v2/", nil)
	if err != nil {
		return "", "", err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", "", errdefs.Unknown(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return "", "", errdefs.Unauthorized(fmt.Errorf("Get %q: unauthorized: incorrect username or password", reg.Scheme()+"://"+host+"/v2/"))
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", errdefs.Unknown(fmt.Errorf("login attempt to %s/v2/ failed with status: %d %s", reg.Scheme()+"://"+host, resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	return "Login Succeeded", "", nil
}

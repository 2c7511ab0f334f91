package control

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// maxConfigSize bounds a config's data (swarmkit's MaxConfigSize, 1000 KiB).
const maxConfigSize = 1000 * 1024

// GetConfigs lists configs with their data. The name (prefix) and id (prefix) filters are
// alternatives; label filters must all hold.
func (c *Cluster) GetConfigs(ctx context.Context, opts swarm.ConfigListOptions) ([]swarm.Config, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	if err := validateFilters(opts.Filters, configFilterKeys); err != nil {
		return nil, err
	}
	sel := newNameSelector(opts.Filters)
	out := []swarm.Config{}
	st.View(func(tx store.ReadTx) {
		for _, cfg := range tx.ListConfigs() {
			if sel.match(cfg.ID, cfg.Spec.Name, cfg.Spec.Labels) {
				out = append(out, configOut(cfg))
			}
		}
	})
	return out, nil
}

func configOut(cfg *store.Config) swarm.Config {
	out := cfg.Config
	if out.Spec.Labels == nil {
		out.Spec.Labels = map[string]string{}
	}
	return out
}

// GetConfig finds a config by ID, name or ID prefix.
func (c *Cluster) GetConfig(ctx context.Context, ref string) (swarm.Config, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Config{}, err
	}
	var cfg *store.Config
	st.View(func(tx store.ReadTx) { cfg, err = resolveConfig(tx, ref) })
	if err != nil {
		return swarm.Config{}, err
	}
	return configOut(cfg), nil
}

// CreateConfig stores a new config and returns its ID.
func (c *Cluster) CreateConfig(ctx context.Context, spec swarm.ConfigSpec) (string, error) {
	st, err := c.managerStore()
	if err != nil {
		return "", err
	}
	if err := validateSecretOrConfigName(spec.Name); err != nil {
		return "", err
	}
	if len(spec.Data) >= maxConfigSize || len(spec.Data) < 1 {
		return "", rpcError(codeInvalidArgument, "config data must be larger than 0 and less than %d bytes", maxConfigSize)
	}
	cfg := &store.Config{}
	cfg.ID = store.NewID()
	cfg.Spec = spec
	if cfg.Spec.Labels == nil {
		cfg.Spec.Labels = map[string]string{}
	}
	err = st.Update(ctx, func(tx store.Tx) error { return tx.Create(cfg) })
	if errors.Is(err, store.ErrNameConflict) {
		return "", rpcError(codeAlreadyExists, "config %s already exists", spec.Name)
	}
	if err != nil {
		return "", storeError(err)
	}
	return cfg.ID, nil
}

// UpdateConfig changes a config's labels; nothing else of a config may change.
func (c *Cluster) UpdateConfig(ctx context.Context, ref string, version uint64, spec swarm.ConfigSpec) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cur, err := resolveConfig(tx, ref)
		if err != nil {
			return err
		}
		if cur.Spec.Name != spec.Name || (spec.Data != nil && !bytes.Equal(spec.Data, cur.Spec.Data)) {
			return rpcError(codeInvalidArgument, "only updates to Labels are allowed")
		}
		cfg := cur.Copy()
		cfg.Version.Index = version
		cfg.Spec.Labels = spec.Labels
		if cfg.Spec.Labels == nil {
			cfg.Spec.Labels = map[string]string{}
		}
		cfg.UpdatedAt = tx.Now()
		return tx.Update(cfg)
	})
	return storeError(err)
}

// RemoveConfig removes a config that no service uses.
func (c *Cluster) RemoveConfig(ctx context.Context, ref string) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cfg, err := resolveConfig(tx, ref)
		if err != nil {
			return err
		}
		var users []string
		for _, svc := range liveServices(tx) {
			if c := svc.Spec.TaskTemplate.ContainerSpec; c != nil && usesConfig(c, cfg.ID) {
				users = append(users, svc.Spec.Name)
			}
		}
		if len(users) > 0 {
			return rpcError(codeInvalidArgument, "config '%s' is in use by the following %s: %v", cfg.Spec.Name, plural(len(users), "service"), strings.Join(users, ", "))
		}
		return tx.Delete(store.KindConfig, cfg.ID)
	})
	if errors.Is(err, store.ErrNotExist) {
		return rpcError(codeNotFound, "config %s not found", ref)
	}
	return storeError(err)
}

func usesConfig(c *swarm.ContainerSpec, id string) bool {
	for _, r := range c.Configs {
		if r.ConfigID == id {
			return true
		}
	}
	return false
}

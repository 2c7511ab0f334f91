package control

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/shoal-project/shoal/swarm/store"
)

// maxSecretSize bounds a secret's data (swarmkit's MaxSecretSize, 500 KiB).
const maxSecretSize = 500 * 1024

// GetSecrets lists secrets; their data is never returned. The names (exact), name (prefix) and id
// (prefix) filters are alternatives, as in swarmkit; label filters must all hold.
func (c *Cluster) GetSecrets(ctx context.Context, opts swarm.SecretListOptions) ([]swarm.Secret, error) {
	st, err := c.managerStore()
	if err != nil {
		return nil, err
	}
	if err := validateFilters(opts.Filters, secretFilterKeys); err != nil {
		return nil, err
	}
	sel := newNameSelector(opts.Filters)
	out := []swarm.Secret{}
	st.View(func(tx store.ReadTx) {
		for _, s := range tx.ListSecrets() {
			if sel.match(s.ID, s.Spec.Name, s.Spec.Labels) {
				out = append(out, secretOut(s))
			}
		}
	})
	return out, nil
}

// nameSelector is swarmkit's secret and config list filter: an object passes when it matches any of
// the exact names, name prefixes or ID prefixes given (names compare case-insensitively, as the
// store's name index does), and every label filter.
type nameSelector struct {
	names, namePrefixes, idPrefixes []string
	labels                          labelFilter
}

func newNameSelector(f filters.Args) nameSelector {
	return nameSelector{
		names:        f.Get("names"),
		namePrefixes: f.Get("name"),
		idPrefixes:   f.Get("id"),
		labels:       newLabelFilter(f.Get("label")),
	}
}

func (s nameSelector) match(id, name string, labels map[string]string) bool {
	if len(s.names)+len(s.namePrefixes)+len(s.idPrefixes) > 0 {
		lname := strings.ToLower(name)
		ok := false
		for _, n := range s.names {
			ok = ok || strings.ToLower(n) == lname
		}
		for _, p := range s.namePrefixes {
			ok = ok || strings.HasPrefix(lname, strings.ToLower(p))
		}
		for _, p := range s.idPrefixes {
			ok = ok || strings.HasPrefix(id, p)
		}
		if !ok {
			return false
		}
	}
	return s.labels.match(labels)
}

// secretOut is the Engine API view of a secret: its data is never returned, labels are never null.
func secretOut(s *store.Secret) swarm.Secret {
	out := s.Secret
	out.Spec.Data = nil
	if out.Spec.Labels == nil {
		out.Spec.Labels = map[string]string{}
	}
	return out
}

// GetSecret finds a secret by ID, name or ID prefix (without its data).
func (c *Cluster) GetSecret(ctx context.Context, ref string) (swarm.Secret, error) {
	st, err := c.managerStore()
	if err != nil {
		return swarm.Secret{}, err
	}
	var s *store.Secret
	st.View(func(tx store.ReadTx) { s, err = resolveSecret(tx, ref) })
	if err != nil {
		return swarm.Secret{}, err
	}
	return secretOut(s), nil
}

// CreateSecret stores a new secret and returns its ID.
func (c *Cluster) CreateSecret(ctx context.Context, spec swarm.SecretSpec) (string, error) {
	st, err := c.managerStore()
	if err != nil {
		return "", err
	}
	if err := validateSecretOrConfigName(spec.Name); err != nil {
		return "", err
	}
	if spec.Driver != nil {
		if spec.Driver.Name == "" {
			return "", rpcError(codeInvalidArgument, "secret driver must have a name")
		}
		// Docker looks the driver up as a secret-provider plugin; shoal has no plugins.
		return "", rpcError(codeInvalidArgument, "secret driver %s is not supported", spec.Driver.Name)
	}
	if len(spec.Data) >= maxSecretSize || len(spec.Data) < 1 {
		return "", rpcError(codeInvalidArgument, "secret data must be larger than 0 and less than %d bytes", maxSecretSize)
	}
	s := &store.Secret{}
	s.ID = store.NewID()
	s.Spec = spec
	if s.Spec.Labels == nil {
		s.Spec.Labels = map[string]string{}
	}
	err = st.Update(ctx, func(tx store.Tx) error { return tx.Create(s) })
	if errors.Is(err, store.ErrNameConflict) {
		return "", rpcError(codeAlreadyExists, "secret %s already exists", spec.Name)
	}
	if err != nil {
		return "", storeError(err)
	}
	return s.ID, nil
}

// UpdateSecret changes a secret's labels; nothing else of a secret may change.
func (c *Cluster) UpdateSecret(ctx context.Context, ref string, version uint64, spec swarm.SecretSpec) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		cur, err := resolveSecret(tx, ref)
		if err != nil {
			return err
		}
		if cur.Spec.Name != spec.Name || (spec.Data != nil && !bytes.Equal(spec.Data, cur.Spec.Data)) {
			return rpcError(codeInvalidArgument, "only updates to Labels are allowed")
		}
		s := cur.Copy()
		s.Version.Index = version
		s.Spec.Labels = spec.Labels
		if s.Spec.Labels == nil {
			s.Spec.Labels = map[string]string{}
		}
		s.UpdatedAt = tx.Now()
		return tx.Update(s)
	})
	return storeError(err)
}

// RemoveSecret removes a secret that no service uses.
func (c *Cluster) RemoveSecret(ctx context.Context, ref string) error {
	st, err := c.managerStore()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		s, err := resolveSecret(tx, ref)
		if err != nil {
			return err
		}
		var users []string
		for _, svc := range liveServices(tx) {
			if c := svc.Spec.TaskTemplate.ContainerSpec; c != nil && usesSecret(c, s.ID) {
				users = append(users, svc.Spec.Name)
			}
		}
		if len(users) > 0 {
			return rpcError(codeInvalidArgument, "secret '%s' is in use by the following %s: %v", s.Spec.Name, plural(len(users), "service"), strings.Join(users, ", "))
		}
		return tx.Delete(store.KindSecret, s.ID)
	})
	if errors.Is(err, store.ErrNotExist) {
		return rpcError(codeNotFound, "secret %s not found", ref)
	}
	return storeError(err)
}

func usesSecret(c *swarm.ContainerSpec, id string) bool {
	for _, r := range c.Secrets {
		if r.SecretID == id {
			return true
		}
	}
	return false
}

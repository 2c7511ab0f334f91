package lb

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// builder collects one table's chains, maps and rules for one batch.
type builder struct {
	c      *nftables.Conn
	t      *nftables.Table
	nextID uint32
	err    error
}

// chain adds a base chain hooked at hook with priority prio.
func (b *builder) chain(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
	return b.c.AddChain(&nftables.Chain{Name: name, Table: b.t, Type: typ, Hooknum: hook, Priority: prio})
}

// set adds a named set or map. IDs are set here, so that the library's
// global ID counter (unsynchronised across Conns) is not used.
func (b *builder) set(s *nftables.Set, elems []nftables.SetElement) {
	b.nextID++
	s.ID = b.nextID
	if err := b.c.AddSet(s, elems); err != nil && b.err == nil {
		b.err = fmt.Errorf("add map %s: %w", s.Name, err)
	}
}

func (b *builder) rule(ch *nftables.Chain, exprs []expr.Any) {
	b.c.AddRule(&nftables.Rule{Table: b.t, Chain: ch, Exprs: exprs})
}

// replaceTable replaces table ip <name> in the netns at nsPath ("" = the
// caller's) in one batch: add (so that the delete cannot fail when it is
// absent), delete (with all its content), then, when fill is not nil,
// create it again and fill it. Nothing changes when the batch fails.
func replaceTable(nsPath, name string, fill func(b *builder) error) error {
	c, done, err := openConn(nsPath)
	if err != nil {
		return err
	}
	defer done()
	t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: name}
	c.AddTable(t)
	c.DelTable(t)
	if fill != nil {
		b := &builder{c: c, t: c.AddTable(t)}
		if err := fill(b); err != nil {
			return err
		}
		if b.err != nil {
			return b.err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table ip %s: %w", name, err)
	}
	return nil
}

// RemoveAll deletes the package's tables (ip shoal-lb, ip shoal-ingress, ip shoal-gateway)
// in the netns at nsPath ("" = the caller's). Absent tables are fine.
func RemoveAll(nsPath string) error {
	if err := replaceTable(nsPath, lbTable, nil); err != nil {
		return err
	}
	if err := replaceTable(nsPath, ingressTable, nil); err != nil {
		return err
	}
	return replaceTable(nsPath, gatewayTable, nil)
}

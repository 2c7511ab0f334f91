package constraint

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// Key prefixes for label constraints.
const (
	NodeLabelPrefix   = "node.labels."
	EngineLabelPrefix = "engine.labels."
)

// Operator compares a node attribute with a constraint's value.
type Operator int

// The operators a constraint may use.
const (
	Equal Operator = iota
	NotEqual
)

var operators = []string{"==", "!="}

var (
	keyPattern = regexp.MustCompile(`^(?i)[a-z_][a-z0-9\-_.]+$`)
	// A value must not hold operators (present or future, like < > ~).
	valuePattern = regexp.MustCompile(`^(?i)[a-z0-9:\-_\s\.\*\(\)\?\+\[\]\\\^\$\|\/]+$`)
)

// Constraint is one parsed "key op value" expression.
type Constraint struct {
	Key      string
	Operator Operator
	Value    string
}

// Parse parses constraint expressions. Its errors are swarmkit's texts, which the control layer returns
// to the client as they are.
func Parse(exprs []string) ([]Constraint, error) {
	out := make([]Constraint, 0, len(exprs))
	for _, e := range exprs {
		found := false
		for i, op := range operators {
			if !strings.Contains(e, op) {
				continue
			}
			parts := strings.SplitN(e, op, 2)
			key := strings.TrimSpace(parts[0])
			if !keyPattern.MatchString(key) {
				return nil, fmt.Errorf("key '%s' is invalid", key)
			}
			value := strings.TrimSpace(parts[1])
			if !valuePattern.MatchString(value) {
				return nil, fmt.Errorf("value '%s' is invalid", value)
			}
			out = append(out, Constraint{Key: key, Operator: Operator(i), Value: value})
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("constraint expected one operator from %s", strings.Join(operators, ", "))
		}
	}
	return out, nil
}

// match compares the value with the candidates, case-insensitively and whole-string.
func (c Constraint) match(candidates ...string) bool {
	hit := false
	for _, s := range candidates {
		if strings.EqualFold(c.Value, s) {
			hit = true
			break
		}
	}
	if c.Operator == NotEqual {
		return !hit
	}
	return hit
}

// matchIP compares a node address with an IP or CIDR value.
func (c Constraint) matchIP(addr string) bool {
	ip := net.ParseIP(addr)
	hit := false
	if _, subnet, err := net.ParseCIDR(c.Value); err == nil {
		hit = ip != nil && subnet.Contains(ip)
	} else if v := net.ParseIP(c.Value); v != nil {
		hit = ip != nil && v.Equal(ip)
	}
	if c.Operator == NotEqual {
		return !hit
	}
	return hit
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Matches reports whether node n satisfies every constraint. A key the syntax does not define never
// matches. Label names are case-sensitive; values compare case-insensitively.
func Matches(cs []Constraint, n *swarm.Node) bool {
	for _, c := range cs {
		var ok bool
		switch {
		case strings.EqualFold(c.Key, "node.id"):
			ok = c.match(n.ID)
		case strings.EqualFold(c.Key, "node.hostname"):
			ok = c.match(n.Description.Hostname)
		case strings.EqualFold(c.Key, "node.ip"):
			ok = c.matchIP(n.Status.Addr)
		case strings.EqualFold(c.Key, "node.role"):
			ok = c.match(string(n.Spec.Role))
		case strings.EqualFold(c.Key, "node.platform.os"):
			ok = c.match(n.Description.Platform.OS)
		case strings.EqualFold(c.Key, "node.platform.arch"):
			ok = c.match(n.Description.Platform.Architecture)
		case hasPrefixFold(c.Key, NodeLabelPrefix):
			ok = c.match(n.Spec.Labels[c.Key[len(NodeLabelPrefix):]])
		case hasPrefixFold(c.Key, EngineLabelPrefix):
			ok = c.match(n.Description.Engine.Labels[c.Key[len(EngineLabelPrefix):]])
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

// NodeMatches parses exprs and matches them against n. Expressions that do not parse match no node
// (the control layer rejects them before they reach a service).
func NodeMatches(exprs []string, n *swarm.Node) bool {
	if len(exprs) == 0 {
		return true
	}
	cs, err := Parse(exprs)
	if err != nil {
		return false
	}
	return Matches(cs, n)
}

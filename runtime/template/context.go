package template

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/docker/docker/api/types/swarm"
)

// Platform is the node's OS and architecture as templates see them.
type Platform struct {
	Architecture string
	OS           string
}

// Context holds the values a template may read. Its shape (anonymous structs included) is swarmkit's,
// so that templates and the errors they cause read the same. It has no methods on purpose: a
// template could call them.
type Context struct {
	Service struct {
		ID     string
		Name   string
		Labels map[string]string
	}

	Node struct {
		ID       string
		Hostname string
		Platform Platform
	}

	Task struct {
		ID   string
		Name string
		Slot string
	}
}

// Service is what a task's executor knows of the task's service.
type Service struct {
	Name   string
	Labels map[string]string
}

// NewContext is the context of task t of service svc, run on the node node describes (nil leaves
// the node's hostname and platform empty, as Docker does for secret and config templates). The
// node ID is the task's; the slot is the task's slot, or its node ID for a global service.
func NewContext(t swarm.Task, svc Service, node *swarm.NodeDescription) *Context {
	c := &Context{}
	c.Service.ID = t.ServiceID
	c.Service.Name = svc.Name
	c.Service.Labels = svc.Labels
	c.Node.ID = t.NodeID
	if node != nil {
		c.Node.Hostname = node.Hostname
		c.Node.Platform = Platform{Architecture: node.Platform.Architecture, OS: node.Platform.OS}
	}
	c.Task.ID = t.ID
	c.Task.Slot = t.NodeID
	if t.Slot != 0 {
		c.Task.Slot = fmt.Sprint(t.Slot)
	}
	c.Task.Name = t.Annotations.Name
	if c.Task.Name == "" {
		c.Task.Name = svc.Name + "." + c.Task.Slot + "." + t.ID
	}
	return c
}

// Expand expands s as a template of c. On error it returns s as it was.
func Expand(c *Context, s string) (string, error) {
	return execute(s, c, nil)
}

// join joins its arguments after the first with the first.
func join(sep string, elems ...string) string { return strings.Join(elems, sep) }

// execute parses s as a template named "expansion", with join and the extra functions, and runs it
// on data; missing map keys are errors. On error it returns s.
func execute(s string, data any, extra template.FuncMap) (string, error) {
	tmpl := template.New("expansion").Option("missingkey=error").Funcs(template.FuncMap{"join": join})
	if len(extra) > 0 {
		tmpl = tmpl.Funcs(extra)
	}
	tmpl, err := tmpl.Parse(s)
	if err != nil {
		return s, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return s, err
	}
	return buf.String(), nil
}

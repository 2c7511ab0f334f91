package openapi

import (
	"testing"

	"github.com/shoal-project/shoal/routes"
)

// swaggerPath maps the routes chi cannot spell as the swagger does: image names hold slashes, so
// /images/{name}/json (/history, /get), /images/{name}/tag (/push) and /distribution/{name}/json
// are wildcards dispatched by their handlers.
// "" skips a route the swagger does not list but dockerd serves (GET /networks/, moby's alias).
var swaggerPath = map[string]string{
	"GET /images/*":       "/images/{name}/json",
	"POST /images/*":      "/images/{name}/tag",
	"DELETE /images/*":    "/images/{name}",
	"GET /distribution/*": "/distribution/{name}/json",
	"GET /networks/":      "",
}

// TestEveryRouteIsInTheSwagger walks shoald's route table and checks each route against the Engine
// API swagger: a route that Docker does not have is a defect.
func TestEveryRouteIsInTheSwagger(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = routes.Walk(func(method, pattern string) error {
		if method == "OPTIONS" {
			return nil // CORS preflight, answered for any path as dockerd does
		}
		n++
		path, ok := swaggerPath[method+" "+pattern]
		if !ok {
			path = pattern
		}
		if path == "" {
			return nil
		}
		if err := c.CheckRoute(method, path); err != nil {
			t.Errorf("%s %s: %v", method, pattern, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("walked only %d routes", n)
	}
}

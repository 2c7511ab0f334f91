package routes

import (
	"strings"
	"testing"
)

func TestPluginsList(t *testing.T) {
	_, cfg := newTestEnvConfig()
	h := New(cfg)
	rec := serveOnce(h, "GET", "/v1.51/plugins", "", "")
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("GET /plugins: %d %s", rec.Code, rec.Body.String())
	}
	rec = serveOnce(h, "GET", `/v1.51/plugins?filters={"capability":{"volumedriver":true}}`, "", "")
	if rec.Code != 200 {
		t.Errorf("capability filter: %d %s", rec.Code, rec.Body.String())
	}
	rec = serveOnce(h, "GET", `/v1.51/plugins?filters={"bogus":{"x":true}}`, "", "")
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "invalid filter 'bogus'") {
		t.Errorf("bad filter: %d %s", rec.Code, rec.Body.String())
	}
}

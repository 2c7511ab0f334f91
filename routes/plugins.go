package routes

import "net/http"

// pluginFilters are the filters of GET /plugins.
var pluginFilters = filterRule{keys: []string{"capability", "enable"}}

// getPlugins lists the managed plugins: shoal runs none (its drivers are built in, as dockerd's
// built-in drivers are not plugins), so `docker plugin ls` shows an empty table.
func (s *server) getPlugins(w http.ResponseWriter, r *http.Request) error {
	if _, err := parseFilters(r, pluginFilters); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, []struct{}{})
}

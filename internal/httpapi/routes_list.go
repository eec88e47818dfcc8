package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Route is one method and path pattern the server answers.
type Route struct{ Method, Path string }

// Routes lists the routes of a handler made by NewServer, for documentation
// checks.
func Routes(h http.Handler) []Route {
	var out []Route
	r, ok := h.(chi.Routes)
	if !ok {
		return nil
	}
	_ = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, Route{method, route})
		return nil
	})
	return out
}

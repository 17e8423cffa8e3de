// Command chi-hello is the Go peer of bench/http: Go 1.19 net/http + chi v5
// serving the routes of examples/hello (svk-hello) so both can be loaded with
// the same wrk runs.
//
//	GET  /hello          "hello, world\n" as text/plain
//	POST /v1/echo        the JSON body decoded and re-encoded with
//	                     encoding/json; 400 on bad JSON, 413 past 1 MiB
//	GET  /v1/items/{id}  {"id":"<id>"}
//
// Middleware is the article's stack without the access logger (svk-hello
// runs with its access log off too): RequestID, RealIP, Recoverer,
// Timeout(15s). Server timeouts are the article's: read-header 5 s, read 30 s,
// write 30 s, idle 120 s. The port comes from PORT; GOMAXPROCS is set by
// run.sh (1).
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

const bodyLimit = 1 << 20

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("hello, world\n"))
}

func echo(w http.ResponseWriter, r *http.Request) {
	var v interface{}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, bodyLimit))
	if err := dec.Decode(&v); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func item(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"id": chi.URLParam(r, "id")})
}

func v1Router() http.Handler {
	r := chi.NewRouter()
	r.Post("/echo", echo)
	r.Get("/items/{id}", item)
	return r
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(middleware.RealIP)
	r.Use(middleware.Recoverer)
	r.Use(middleware.Timeout(15 * time.Second))
	r.Get("/hello", hello)
	r.Mount("/v1", v1Router())

	srv := &http.Server{
		Addr:              "127.0.0.1:" + port,
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

module svckit.bench/http/chi

go 1.19

require github.com/go-chi/chi/v5 v5.0.7

// Debian's golang-github-go-chi-chi-dev (5.0.7); built offline, see run.sh.
replace github.com/go-chi/chi/v5 => /usr/share/gocode/src/github.com/go-chi/chi

-- post_echo.lua — wrk script of bench/http: every request is POST /v1/echo
-- carrying the 256-byte JSON document in echo_body.json (run.sh passes its
-- path in BENCH_HTTP_BODY), Content-Type: application/json, keep-alive.
local path = assert(os.getenv("BENCH_HTTP_BODY"), "BENCH_HTTP_BODY is not set")
local file = assert(io.open(path, "rb"))
local body = file:read("*a")
file:close()
assert(#body == 256, "echo_body.json must be 256 bytes, is " .. #body)

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

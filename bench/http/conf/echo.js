// echo.js — njs handler of nginx's POST /v1/echo in bench/http: decode the
// JSON body and encode it again, 400 on bad JSON, like the other servers.
function echo(r) {
    var value;
    try {
        value = JSON.parse(r.requestText);
    } catch (e) {
        r.headersOut['Content-Type'] = 'text/plain';
        r.return(400, 'bad JSON: ' + e.message + '\n');
        return;
    }
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify(value) + '\n');
}

export default {echo};

-- wrk script: POSTs the form bodies of a file (one urlencoded body per line) in turn, each
-- once, as the public feedback form does, with the form's CSRF token and its cookie (CSRF,
-- COOKIE: "ngoso_csrf=…"). Each thread takes every Nth line.
--   BODIES=file THREADS=2 CSRF=… COOKIE=… wrk -t2 -c16 -d10s -s bench/wrk-form.lua http://127.0.0.1:8080/feedback
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

function init(args)
    local n = tonumber(os.getenv("THREADS") or "1")
    bodies = {}
    local i = 0
    for line in io.lines(os.getenv("BODIES")) do
        if i % n == id then
            table.insert(bodies, line .. "&csrf=" .. (os.getenv("CSRF") or ""))
        end
        i = i + 1
    end
    next_body = 1
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    local cookie = os.getenv("COOKIE")
    if cookie and cookie ~= "" then
        wrk.headers["Cookie"] = cookie
    end
end

function request()
    local b = bodies[next_body] or bodies[#bodies]
    next_body = next_body + 1
    return wrk.format(nil, nil, nil, b)
end

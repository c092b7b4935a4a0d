"""Writes the OpenAPI 3.1 document that GET /openapi.json serves.

    python3 tools/openapi.py > src/openapi.json

Edit this, not the JSON. src/lib.rs checks the document lists exactly the routes the router serves,
and tests/api/openapi.rs checks real responses against it.
"""
import json
R = lambda name: {"$ref": f"#/components/schemas/{name}"}
def content(schema, ct="application/json"):
    return {"content": {ct: {"schema": schema}}}
def problem(desc, headers=None):
    r = {"description": desc, **content(R("Problem"), "application/problem+json")}
    if headers: r["headers"] = headers
    return r
def original_error(desc, headers=None):
    r = {"description": desc, **content(R("OriginalError"))}
    if headers: r["headers"] = headers
    return r
H = {
  "Allow": {"$ref": "#/components/headers/Allow"},
  "RetryAfter": {"$ref": "#/components/headers/RetryAfter"},
  "ETag": {"$ref": "#/components/headers/ETag"},
  "Location": {"$ref": "#/components/headers/Location"},
}
P = lambda code, desc: problem(desc, {"Allow": H["Allow"]} if code == "405" else ({"Retry-After": H["RetryAfter"]} if code == "503" else None))
O = lambda code, desc: original_error(desc, {"Allow": H["Allow"]} if code == "405" else ({"Retry-After": H["RetryAfter"]} if code == "503" else None))
common_p = {"401": problem("`api_token` is set and the request lacks `Authorization: Bearer <token>`", {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}),
            "405": P("405", "Method not allowed for this path; `Allow` lists the methods it takes"),
            "500": P("500", "Internal error (details are logged, not sent)"),
            "503": P("503", "Redis is unreachable; retry after `Retry-After` seconds")}
common_o = {"401": original_error("Authentification requise (`api_token` is set)", {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}),
            "405": O("405", "Méthode non autorisée"),
            "500": O("500", "Erreur interne du serveur"),
            "503": O("503", "Redis is unreachable")}
def ops(d, common): 
    for op in d.values():
        for k, v in common.items():
            op["responses"].setdefault(k, v)
    return d
user_id_param = {"name": "id", "in": "path", "required": True, "description": "A user id: a positive decimal integer without leading zeros; anything else is 404.", "schema": {"type": "string"}}
session_id_param = {"name": "id", "in": "path", "required": True, "description": "A session id (percent-decoded, at most 256 bytes).", "schema": {"type": "string"}}
if_match = {"name": "If-Match", "in": "header", "required": False, "description": "`*` or a list of strong ETags; the write happens only if the user's current ETag is listed (412 otherwise).", "schema": {"type": "string"}}
json_body = lambda schema, required=True: {"required": required, "content": {"application/json": {"schema": schema}}}
bad_body = {"400": P("400", "Body is not valid JSON (duplicate keys included), not an object, or has an unknown field"),
            "413": P("413", "Body over `max_body_bytes`, or session data over `max_session_data_bytes`"),
            "415": P("415", "Body not sent as JSON (`application/json` or a `+json` type)")}

paths = {
 "/create_user": ops({"post": {"summary": "Create a user (original API)", "operationId": "originalCreateUser", "tags": ["original"],
    "requestBody": json_body(R("OriginalNewUser")),
    "responses": {"201": {"description": "Utilisateur créé", **content(R("OriginalCreated"))},
                  "400": O("400", "Les champs 'nom' et 'prenom' sont obligatoires, or the body is not a JSON object"),
                  "413": O("413", "Body over `max_body_bytes`"),
                  "415": O("415", "Body not sent as JSON"),
                  "422": O("422", "A name has control characters or is over `max_name_chars`")}}}, common_o),
 "/get_user/{id}": ops({"get": {"summary": "Read a user (original API)", "operationId": "originalGetUser", "tags": ["original"],
    "parameters": [user_id_param],
    "responses": {"200": {"description": "The user", **content(R("OriginalUser"))}, "404": O("404", "Utilisateur non trouvé")}}}, common_o),
 "/delete_user/{id}": ops({"delete": {"summary": "Delete a user and its sessions (original API)", "operationId": "originalDeleteUser", "tags": ["original"],
    "parameters": [user_id_param],
    "responses": {"200": {"description": "Utilisateur supprimé", **content(R("OriginalMessage"))}, "404": O("404", "Utilisateur non trouvé")}}}, common_o),
 "/list_users": ops({"get": {"summary": "List every user, ascending id (original API)", "operationId": "originalListUsers", "tags": ["original"],
    "responses": {"200": {"description": "All users", **content({"type": "array", "items": R("OriginalUser")})}}}}, common_o),
 "/create_session": ops({"post": {"summary": "Store a session for one hour under a client-chosen id (original API)", "operationId": "originalCreateSession", "tags": ["original"],
    "requestBody": json_body(R("OriginalNewSession")),
    "responses": {"201": {"description": "Session enregistrée", **content(R("OriginalMessage"))},
                  "400": O("400", "session_id manquant, session_id invalide (over `max_session_id_bytes` or with control characters), or the body is not a JSON object"),
                  "413": O("413", "Body over `max_body_bytes`, or data over `max_session_data_bytes`"),
                  "415": O("415", "Body not sent as JSON"),
                  "422": O("422", "data nests deeper than `max_session_data_depth`")}}}, common_o),
 "/get_session/{session_id}": ops({"get": {"summary": "Read a session's data (original API)", "operationId": "originalGetSession", "tags": ["original"],
    "parameters": [{"name": "session_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {"200": {"description": "The stored data, any JSON value", **content({})}, "404": O("404", "Session introuvable ou expirée")}}}, common_o),
 "/v1/users": ops({
   "get": {"summary": "A page of users, ascending id", "operationId": "listUsers", "tags": ["users"],
     "parameters": [{"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
                    {"name": "cursor", "in": "query", "required": False, "description": "The `next_cursor` of the previous page.", "schema": {"type": "string"}}],
     "responses": {"200": {"description": "A page", **content(R("UserPage"))}, "400": P("400", "Bad `limit` or `cursor`")}},
   "post": {"summary": "Create a user", "operationId": "createUser", "tags": ["users"], "requestBody": json_body(R("NewUser")),
     "responses": {"201": {"description": "Created", "headers": {"Location": H["Location"], "ETag": H["ETag"]}, **content(R("User"))},
                   **bad_body, "422": P("422", "A field has an unacceptable value")}}}, common_p),
 "/v1/users/{id}": ops({
   "get": {"summary": "Read a user", "operationId": "getUser", "tags": ["users"], "parameters": [user_id_param],
     "responses": {"200": {"description": "The user", "headers": {"ETag": H["ETag"]}, **content(R("User"))}, "404": P("404", "No such user")}},
   "patch": {"summary": "Change a user's fields", "operationId": "updateUser", "tags": ["users"], "parameters": [user_id_param, if_match],
     "requestBody": {"required": True, "content": {"application/json": {"schema": R("UserPatch")}, "application/merge-patch+json": {"schema": R("UserPatch")}}},
     "responses": {"200": {"description": "The updated user", "headers": {"ETag": H["ETag"]}, **content(R("User"))}, **bad_body,
                   "404": P("404", "No such user"), "412": P("412", "`If-Match` names none of the user's current ETags"), "422": P("422", "A field has an unacceptable value")}},
   "delete": {"summary": "Delete a user, its index entry and all its sessions, atomically", "operationId": "deleteUser", "tags": ["users"], "parameters": [user_id_param, if_match],
     "responses": {"204": {"description": "Deleted"}, "404": P("404", "No such user"), "412": P("412", "`If-Match` names none of the user's current ETags")}}}, common_p),
 "/v1/users/{id}/sessions": ops({
   "get": {"summary": "The user's live sessions", "operationId": "listUserSessions", "tags": ["sessions"], "parameters": [user_id_param],
     "responses": {"200": {"description": "Live sessions", **content(R("SessionList"))}, "404": P("404", "No such user")}},
   "delete": {"summary": "Revoke all of the user's sessions (log out everywhere)", "operationId": "revokeUserSessions", "tags": ["sessions"], "parameters": [user_id_param],
     "responses": {"200": {"description": "How many live sessions were revoked", **content(R("Revoked"))}, "404": P("404", "No such user")}}}, common_p),
 "/v1/sessions": ops({"post": {"summary": "Create a session with a service-generated id", "operationId": "createSession", "tags": ["sessions"],
     "requestBody": json_body(R("NewSession")),
     "responses": {"201": {"description": "Created", "headers": {"Location": H["Location"]}, **content(R("Session"))}, **bad_body,
                   "422": P("422", "A field has an unacceptable value, or `user_id` names no user")}}}, common_p),
 "/v1/sessions/{id}": ops({
   "get": {"summary": "Read a live session", "operationId": "getSession", "tags": ["sessions"], "parameters": [session_id_param],
     "responses": {"200": {"description": "The session", **content(R("Session"))}, "404": P("404", "No live session has this id")}},
   "patch": {"summary": "Replace the data and/or restart the expiry from now", "operationId": "updateSession", "tags": ["sessions"], "parameters": [session_id_param],
     "requestBody": json_body(R("SessionPatch")),
     "responses": {"200": {"description": "The session", **content(R("Session"))}, **bad_body, "404": P("404", "No live session has this id"), "422": P("422", "A field has an unacceptable value")}},
   "delete": {"summary": "Delete a session (log out)", "operationId": "deleteSession", "tags": ["sessions"], "parameters": [session_id_param],
     "responses": {"204": {"description": "Deleted"}, "404": P("404", "No live session has this id")}}}, common_p),
 "/healthz": ops({"get": {"summary": "Whether Redis answers PING (no token needed)", "operationId": "health", "tags": ["operations"], "security": [],
     "responses": {"200": {"description": "Redis answers", **content(R("Health"))}}}}, {k: v for k, v in common_p.items() if k != "401"}),
 "/openapi.json": ops({"get": {"summary": "This document", "operationId": "openapi", "tags": ["operations"],
     "responses": {"200": {"description": "OpenAPI 3.1 document", **content({"type": "object"})}}}}, common_p),
 "/v1/admin/reindex-users": ops({"post": {"summary": "Index users written by the original Flask service (SCAN in bounded batches; idempotent)", "operationId": "reindexUsers", "tags": ["operations"],
     "parameters": [{"name": "cursor", "in": "query", "required": False, "description": "The `cursor` of the previous call, while `complete` is false.", "schema": {"type": "string"}}],
     "responses": {"200": {"description": "Progress", **content(R("Reindex"))}, "400": P("400", "Bad `cursor`")}}}, common_p),
}
ts = {"type": ["string", "null"], "format": "date-time"}
schemas = {
 "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}}},
 "OriginalError": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {"type": "string"}}},
 "OriginalMessage": {"type": "object", "required": ["message"], "additionalProperties": False, "properties": {"message": {"type": "string"}}},
 "OriginalCreated": {"type": "object", "required": ["message", "user_id"], "additionalProperties": False, "properties": {"message": {"type": "string"}, "user_id": {"type": "integer", "minimum": 1}}},
 "OriginalNewUser": {"type": "object", "required": ["nom", "prenom"], "properties": {"nom": {"type": "string", "minLength": 1}, "prenom": {"type": "string", "minLength": 1}}},
 "OriginalUser": {"type": "object", "required": ["id", "nom", "prenom"], "additionalProperties": False, "properties": {"id": {"type": "integer", "minimum": 1}, "nom": {"type": "string"}, "prenom": {"type": "string"}}},
 "OriginalNewSession": {"type": "object", "required": ["session_id"], "properties": {"session_id": {"type": ["string", "integer"], "description": "1 to max_session_id_bytes (128) bytes of text without control characters, or an integer"}, "data": {"description": "Any JSON value; defaults to {}"}}},
 "NewUser": {"type": "object", "required": ["nom", "prenom"], "additionalProperties": False, "properties": {"nom": R("Name"), "prenom": R("Name")}},
 "UserPatch": {"type": "object", "additionalProperties": False, "properties": {"nom": R("Name"), "prenom": R("Name")}},
 "Name": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Not blank, no control characters, at most max_name_chars (200) characters."},
 "User": {"type": "object", "required": ["id", "nom", "prenom", "created_at", "updated_at"], "additionalProperties": False, "properties": {
    "id": {"type": "integer", "minimum": 1}, "nom": {"type": "string"}, "prenom": {"type": "string"},
    "created_at": {**ts, "description": "null for users written by the original Flask service"}, "updated_at": {**ts, "description": "null for users written by the original Flask service and never updated since"}}},
 "UserPage": {"type": "object", "required": ["items", "next_cursor"], "additionalProperties": False, "properties": {"items": {"type": "array", "items": R("User")}, "next_cursor": {"type": ["string", "null"]}}},
 "NewSession": {"type": "object", "additionalProperties": False, "properties": {"user_id": {"type": ["integer", "null"], "minimum": 1}, "data": {"description": "Any JSON value; defaults to {}"}, "ttl_seconds": {"type": "integer", "minimum": 1, "description": "At most the session_max_ttl_seconds variable; defaults to session_ttl_seconds."}}},
 "SessionPatch": {"type": "object", "additionalProperties": False, "properties": {"data": {"description": "Any JSON value"}, "ttl_seconds": {"type": "integer", "minimum": 1}}},
 "Session": {"type": "object", "required": ["id", "user_id", "data", "created_at", "expires_at", "ttl_seconds"], "additionalProperties": False, "properties": {
    "id": {"type": "string"}, "user_id": {"type": ["integer", "null"], "minimum": 1}, "data": {},
    "created_at": {**ts, "description": "null for sessions created through /create_session"},
    "expires_at": {**ts, "description": "null only for a key stored without expiry"}, "ttl_seconds": {"type": ["integer", "null"], "minimum": 0}}},
 "SessionList": {"type": "object", "required": ["items"], "additionalProperties": False, "properties": {"items": {"type": "array", "items": R("Session")}}},
 "Revoked": {"type": "object", "required": ["revoked"], "additionalProperties": False, "properties": {"revoked": {"type": "integer", "minimum": 0}}},
 "Health": {"type": "object", "required": ["status"], "additionalProperties": False, "properties": {"status": {"const": "ok"}}},
 "Reindex": {"type": "object", "required": ["indexed", "complete", "cursor"], "additionalProperties": False, "properties": {"indexed": {"type": "integer", "minimum": 0}, "complete": {"type": "boolean"}, "cursor": {"type": ["string", "null"]}}},
}
doc = {
 "openapi": "3.1.0",
 "info": {"title": "user-session-service", "version": "0.1.0",
          "description": "Users and expiring sessions, backed by Redis, as a Spin component. The six original endpoints (tag `original`) keep the Flask service's paths, statuses, French messages and `{\"error\": ...}` bodies; the `/v1` API answers errors as RFC 9457 problem documents."},
 "tags": [{"name": "original"}, {"name": "users"}, {"name": "sessions"}, {"name": "operations"}],
 "security": [{"bearerAuth": []}, {}],
 "paths": paths,
 "components": {"schemas": schemas,
   "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "The `api_token` Spin variable. When it is empty (the default, for local use) no token is needed."}},
   "headers": {
    "WWWAuthenticate": {"description": "`Bearer realm=\"user-session-service\"`", "schema": {"type": "string"}},
    "Allow": {"description": "Methods this path allows", "schema": {"type": "string"}},
    "RetryAfter": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    "ETag": {"description": "Strong ETag of the user's stored record", "schema": {"type": "string"}},
    "Location": {"description": "Path of the created resource", "schema": {"type": "string"}}}},
}
print(json.dumps(doc, indent=2, ensure_ascii=False))

/* gwp_request: the facts of a request and the application's answer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/url.h>

#include "gwp_internal.h"

void
gwp_request_free(struct gwp_request *req)
{
	size_t i;

	if (!req)
		return;
	free(req->method);
	free(req->uri);
	free(req->user);
	free(req->from);
	free(req->to);
	free(req->call_id);
	free(req->source);
	free(req->contact);
	free(req->route_set);
	free(req->auth_user);
	gwp_credentials_free(req->cred);
	for (i = 0; i < req->n_hdrs; i++) {
		free(req->hdr_names[i]);
		free(req->hdr_values[i]);
	}
	free(req->hdr_names);
	free(req->hdr_values);
	for (i = 0; i < req->n_targets; i++)
		free(req->targets[i].uri);
	free(req->targets);
	free(req->reason);
	if (req->proxy)
		gwp_proxy_unref(req->proxy);
	free(req);
}

int
gwp_request_add_header(struct gwp_request *req, const char *name, const char *value)
{
	char **names, **values;
	size_t n = req->n_hdrs + 1;

	names = realloc(req->hdr_names, n * sizeof(*names));
	if (!names)
		return GWP_ERR_NOMEM;
	req->hdr_names = names;
	values = realloc(req->hdr_values, n * sizeof(*values));
	if (!values)
		return GWP_ERR_NOMEM;
	req->hdr_values = values;
	names[n - 1] = strdup(name);
	values[n - 1] = strdup(value);
	req->n_hdrs = n;
	if (!names[n - 1] || !values[n - 1])
		return GWP_ERR_NOMEM;
	return GWP_OK;
}

GWP_EXPORT const char *
gwp_request_method(const gwp_request *req)
{
	return req ? req->method : NULL;
}

GWP_EXPORT const char *
gwp_request_uri(const gwp_request *req)
{
	return req ? req->uri : NULL;
}

GWP_EXPORT const char *
gwp_request_user(const gwp_request *req)
{
	return req ? req->user : NULL;
}

GWP_EXPORT const char *
gwp_request_from(const gwp_request *req)
{
	return req ? req->from : NULL;
}

GWP_EXPORT const char *
gwp_request_to(const gwp_request *req)
{
	return req ? req->to : NULL;
}

GWP_EXPORT const char *
gwp_request_call_id(const gwp_request *req)
{
	return req ? req->call_id : NULL;
}

GWP_EXPORT const char *
gwp_request_source(const gwp_request *req)
{
	return req ? req->source : NULL;
}

GWP_EXPORT const char *
gwp_request_contact(const gwp_request *req)
{
	return req ? req->contact : NULL;
}

GWP_EXPORT unsigned
gwp_request_expires(const gwp_request *req)
{
	return req ? req->expires : 0;
}

GWP_EXPORT const char *
gwp_request_auth_user(const gwp_request *req)
{
	return req ? req->auth_user : NULL;
}

GWP_EXPORT const char *
gwp_request_route(const gwp_request *req)
{
	return req ? req->route_set : NULL;
}

GWP_EXPORT int
gwp_request_allow_route(gwp_request *req)
{
	if (!req || !req->route_set)
		return GWP_ERR_INVAL;
	if (req->action != GWP_ACT_NONE)
		return GWP_ERR_ANSWERED;
	req->route_allowed = 1;
	return GWP_OK;
}

GWP_EXPORT const char *
gwp_request_header(const gwp_request *req, const char *name)
{
	size_t i;

	if (!req || !name)
		return NULL;
	for (i = 0; i < req->n_hdrs; i++)
		if (strcasecmp(req->hdr_names[i], name) == 0)
			return req->hdr_values[i];
	return NULL;
}

static int
target_uri_valid(const char *uri)
{
	url_t *url;
	int ok;

	if (strncasecmp(uri, "sip:", 4) != 0 && strncasecmp(uri, "sips:", 5) != 0)
		return 0;
	url = url_make(NULL, uri);
	ok = url && url->url_host && *url->url_host;
	su_free(NULL, url);
	return ok;
}

GWP_EXPORT int
gwp_request_add_target(gwp_request *req, const char *uri, unsigned timeout_ms)
{
	struct gwp_target *t;
	char *copy;

	if (!req || !uri)
		return GWP_ERR_INVAL;
	if (req->action != GWP_ACT_NONE)
		return GWP_ERR_ANSWERED;
	if (!target_uri_valid(uri))
		return GWP_ERR_INVAL;
	copy = strdup(uri);
	if (!copy)
		return GWP_ERR_NOMEM;
	t = realloc(req->targets, (req->n_targets + 1) * sizeof(*t));
	if (!t) {
		free(copy);
		return GWP_ERR_NOMEM;
	}
	req->targets = t;
	t[req->n_targets].uri = copy;
	t[req->n_targets].timeout_ms = timeout_ms;
	req->n_targets++;
	return GWP_OK;
}

/* Hand the answered request to the SIP thread, which applies and frees it.
 * When the proxy is stopped the request is freed here. */
static int
request_submit(struct gwp_request *req)
{
	int rc = gwp_queue_push(&req->proxy->inbox, GWP_Q_ANSWER, req);

	if (rc != GWP_OK)
		gwp_request_free(req);
	return rc;
}

GWP_EXPORT int
gwp_request_forward(gwp_request *req, enum gwp_fork mode)
{
	int rc = GWP_OK;

	if (!req)
		return GWP_ERR_INVAL;
	if (req->n_targets == 0)
		rc = GWP_ERR_NOTARGET;
	else if (mode != GWP_FORK_SEQUENTIAL && mode != GWP_FORK_PARALLEL)
		rc = GWP_ERR_INVAL;
	else if (req->route_set && !req->route_allowed)
		rc = GWP_ERR_ROUTE; /* no relaying through a pre-loaded Route */
	if (rc != GWP_OK) {
		req->action = GWP_ACT_RESPOND;
		req->code = rc == GWP_ERR_ROUTE ? 403 : 500;
		req->reason = rc == GWP_ERR_ROUTE ? strdup("Route Not Allowed") : NULL;
		request_submit(req);
		return rc;
	}
	req->action = GWP_ACT_FORWARD;
	req->mode = mode;
	return request_submit(req);
}

GWP_EXPORT int
gwp_request_respond(gwp_request *req, int code, const char *reason)
{
	int rc = GWP_OK, sub;

	if (!req)
		return GWP_ERR_INVAL;
	req->action = GWP_ACT_RESPOND;
	req->code = code;
	if (code < 200 || code > 699) {
		req->code = 500;
		rc = GWP_ERR_INVAL;
	} else if (reason && strpbrk(reason, "\r\n")) {
		rc = GWP_ERR_INVAL;
	} else if (reason) {
		req->reason = strdup(reason);
	}
	sub = request_submit(req);
	return rc != GWP_OK ? rc : sub;
}

GWP_EXPORT int
gwp_request_challenge(gwp_request *req)
{
	int sub;

	if (!req)
		return GWP_ERR_INVAL;
	if (!req->proxy || !req->proxy->cfg.auth_realm) {
		req->action = GWP_ACT_RESPOND;
		req->code = 500;
		request_submit(req);
		return GWP_ERR_STATE;
	}
	req->action = GWP_ACT_CHALLENGE;
	sub = request_submit(req);
	return sub;
}

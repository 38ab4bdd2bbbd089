/*
 * presence_sipe.c - what Microsoft-protocol clients in LCS 2005 ("legacy")
 * mode use, as pidgin-sipe does (docs MS-SIPAE.md sections 7, 8 and 10):
 * SERVICE requests carrying SOAP (setPresence, contact and group
 * management, setACE) and the server-stored contact list sent on the
 * vnd-microsoft-roaming-contacts event.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwd.h"
#include "log.h"
#include "presence_int.h"
#include "presence_jobs.h"
#include "presence_store.h"
#include "sip.h"

#define CONTACTLIST_NS "http://schemas.microsoft.com/2006/09/sip/contactlist"
#define MSRTC_NS "http://schemas.microsoft.com/2002/09/sip/presence"
#define SOAP_ENVELOPE                                                                              \
	"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\""                        \
	" xmlns:m=\"http://schemas.microsoft.com/winrtc/2002/11/sip\"><s:Body>%s</s:Body>"         \
	"</s:Envelope>"

bool
pres_sipe_legacy(const sip_t *sip)
{
	for (const sip_accept_t *a = sip->sip_accept; a; a = a->ac_next)
		if (a->ac_type && strcasecmp(a->ac_type, "text/xml+msrtc.pidf") == 0)
			return true;
	return sip->sip_user_agent && sip->sip_user_agent->g_string &&
	       strstr(sip->sip_user_agent->g_string, "Sipe");
}

/* LCS activity numbers: 100 away, 300 be right back, 400 available,
 * 500 on the phone, 600 busy / do not disturb; availability 0 offline.
 * pidgin-sipe adds the user's choice as a 2007 state token (<state>), which
 * tells do-not-disturb from busy. */
static void
soap_status(const struct pres_soap *soap, struct pres_status *st)
{
	const char *avail = pres_soap_arg(soap, "availability");
	const char *act = pres_soap_arg(soap, "activity");
	const char *note = pres_soap_arg(soap, "note");
	const char *state = pres_soap_arg(soap, "state");
	long a = act ? strtol(act, NULL, 10) : 400;

	memset(st, 0, sizeof(*st));
	st->open = !(avail && strtol(avail, NULL, 10) == 0);
	st->activity = a < 200   ? ACT_AWAY
		       : a < 400 ? ACT_BRB
		       : a < 500 ? ACT_AVAILABLE
		       : a < 600 ? ACT_ON_THE_PHONE
				 : ACT_BUSY;
	if (st->activity == ACT_BUSY && state && strcmp(state, "do-not-disturb") == 0)
		st->activity = ACT_DND;
	if (note)
		snprintf(st->note, sizeof(st->note), "%s", note);
}

/* The LCS numbers of a status, for the msrtc document. */
static int
msrtc_activity(const struct pres_status *st)
{
	switch (st->activity) {
	case ACT_AWAY:
		return 100;
	case ACT_BRB:
		return 300;
	case ACT_ON_THE_PHONE:
		return 500;
	case ACT_BUSY:
	case ACT_DND:
		return 600;
	default:
		return 400;
	}
}

char *
pres_sipe_msrtc_build(const char *entity, const struct pres_status *st)
{
	char *ent = pres_xml_escape(entity), *note = pres_xml_escape(st->note), *out = NULL;

	/* uri without "sip:", as LCS writes it; availability 300 online, 0 offline */
	if (ent && note &&
	    asprintf(&out,
		     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<presentity uri=\"%s\" xmlns=\"" MSRTC_NS "\">"
		     "<availability aggregate=\"%d\" description=\"\"/>"
		     "<activity aggregate=\"%d\" description=\"\"/>"
		     "<userInfo>%s%s%s</userInfo></presentity>\n",
		     ent, st->open ? 300 : 0, st->open ? msrtc_activity(st) : 0,
		     note[0] ? "<note>" : "", note, note[0] ? "</note>" : "") < 0)
		out = NULL;
	free(ent);
	free(note);
	return out;
}

/* The subscription s belongs to the device with this endpoint id (pidgin-sipe names
 * its endpoint in an epid parameter of From). */
static bool
same_device(const struct pres_sub *s, const char *epid)
{
	const char *p = strcasestr(s->remote, ";epid=");
	size_t n = strlen(epid);

	return n > 0 && p && strncasecmp(p + 6, epid, n) == 0 && strchr(";>, ", p[6 + n]);
}

/* The owner's contact list changed: every device gets the new list, except the one
 * that made the change (it knows already; a list crossing its pending changes would
 * make pidgin-sipe drop the buddy it is adding).  epid NULL: a change from elsewhere. */
void
pres_sipe_contacts_changed(struct presence *ps, const char *owner, const char *epid)
{
	for (struct pres_sub *s = ps->subs; s; s = s->next)
		if (s->event == EV_ROAMING && !s->ending && strcasecmp(s->presentity, owner) == 0 &&
		    !(epid && same_device(s, epid)))
			pres_sub_notify(ps, s);
}

static int
soap_contact(struct gwstore *st, const char *owner, const struct pres_soap *soap, bool del)
{
	const char *uri = pres_soap_arg(soap, "URI");
	const char *sub = pres_soap_arg(soap, "subscribed");
	char who[256];

	if (uri == NULL)
		return -1;
	gwstore_uri_norm(who, sizeof(who), uri);
	log_info("event=contact-%s owner=%s contact=%s", del ? "delete" : "set", log_value(owner),
		 log_value(who));
	if (del)
		return gwstore_contact_delete(st, owner, who);
	return gwstore_contact_set(st, owner, who, pres_soap_arg(soap, "displayName"),
				   pres_soap_arg(soap, "groups"),
				   !(sub && strcasecmp(sub, "false") == 0));
}

/* Group methods; *added is set to a new group's id. */
static int
soap_group(struct gwstore *st, const char *owner, const struct pres_soap *soap, bool del,
	   int64_t *added)
{
	const char *id = pres_soap_arg(soap, "groupID");
	const char *name = pres_soap_arg(soap, "name");
	int64_t gid = id ? strtoll(id, NULL, 10) : 0;

	if (del)
		return gid > 0 ? gwstore_group_delete(st, owner, gid) : -1;
	if (name == NULL)
		return -1;
	if (id == NULL || id[0] == '\0') {
		/* the default group, or one of that name already (a client that adds two
		 * buddies to a new group asks twice before the first answer) */
		gid = strcmp(name, "~") == 0 ? 1 : gwstore_group_find(st, owner, name);
		if (gid > 0) {
			*added = gid;
			return 0;
		}
		gid = 0;
	}
	if (gwstore_group_set(st, owner, &gid, name) < 0)
		return -1;
	if (id == NULL || id[0] == '\0')
		*added = gid;
	return 0;
}

static void
reply_group_added(struct pres_req *r, int64_t gid)
{
	char inner[128], *body = NULL;

	snprintf(inner, sizeof(inner),
		 "<m:addGroup><m:groupID>%" PRId64 "</m:groupID></m:addGroup>", gid);
	if (asprintf(&body, SOAP_ENVELOPE, inner) < 0)
		body = NULL;
	presence_reply(r, SIP_200_OK, TAG_IF(body, SIPTAG_CONTENT_TYPE_STR("application/SOAP+xml")),
		       TAG_IF(body, SIPTAG_PAYLOAD_STR(body)), TAG_END());
	free(body);
}

/*
 * A SERVICE request that changes the contact list or the ACL: the store's
 * part runs as a presence job (off worker 0 with a remote store), and the
 * answer goes when it is done, on worker 0 (queue and resume).
 */
struct service_job {
	struct pres_job job;
	struct worker *w;
	msg_t *msg;  /* the request, answered in done */
	tport_t *tp; /* the connection it came over (a reference), or NULL */
	char owner[256];
	char device[64]; /* the endpoint that made the change */
	struct pres_soap soap;
	int changed;           /* 1: the contact list changed */
	int64_t added;         /* a new group's id */
	char acl_watcher[256]; /* setACE: the rule set for this watcher */
	char acl_rule[8];
	char self[40]; /* this front end in a pool, or "" */
};

/* The other front ends of a pool hear of the change (gw_lists). */
static int
service_told(struct service_job *sj, struct gwstore *st, int rc, bool contacts)
{
	if (rc >= 0 && sj->self[0] && pres_lists_notify(st, sj->owner, sj->self, contacts) < 0)
		log_warnx("event=pool-notify-failed owner=%s", log_value(sj->owner));
	return rc;
}

/* 1 when the contact list changed, 0 when nothing did, -1 for a bad request. */
static int
service_run(struct pres_job *j, struct gwstore *st)
{
	struct service_job *sj = (struct service_job *)j;
	const struct pres_soap *soap = &sj->soap;
	const char *m = soap->method;

	if (strcmp(m, "setContact") == 0 || strcmp(m, "deleteContact") == 0)
		return service_told(
		    sj, st, soap_contact(st, sj->owner, soap, m[0] == 'd') < 0 ? -1 : 1, true);
	if (strcmp(m, "addGroup") == 0 || strcmp(m, "modifyGroup") == 0 ||
	    strcmp(m, "setContactGroup") == 0 || strcmp(m, "deleteGroup") == 0 ||
	    strcmp(m, "deleteContactGroup") == 0)
		return service_told(
		    sj, st, soap_group(st, sj->owner, soap, m[0] == 'd', &sj->added) < 0 ? -1 : 1,
		    true);
	if (strcmp(m, "setACE") == 0) {
		const char *type = pres_soap_arg(soap, "type");
		const char *mask = pres_soap_arg(soap, "mask");
		const char *rights = pres_soap_arg(soap, "rights");
		if (type == NULL || strcasecmp(type, "USER") != 0 || mask == NULL || rights == NULL)
			return 0; /* domain and everyone entries: the defaults stand */
		gwstore_uri_norm(sj->acl_watcher, sizeof(sj->acl_watcher), mask);
		snprintf(sj->acl_rule, sizeof(sj->acl_rule), "%s",
			 strcasecmp(rights, "BD") == 0 ? "block" : "allow");
		if (sj->acl_watcher[0] == '\0' ||
		    gwstore_acl_set(st, sj->owner, sj->acl_watcher, sj->acl_rule) < 0) {
			sj->acl_watcher[0] = '\0';
			return -1;
		}
		return service_told(sj, st, 0, false);
	}
	return 0; /* other methods: accepted and ignored */
}

static void
service_done(struct pres_job *j, struct presence *ps)
{
	struct service_job *sj = (struct service_job *)j;
	struct pres_req r = {.w = sj->w, .ps = ps, .msg = sj->msg, .tp = sj->tp};

	r.sip = sip_object(sj->msg);
	snprintf(r.user, sizeof(r.user), "%s", sj->owner);
	if (j->rc < 0) {
		presence_reply(&r, 400, "Bad SOAP request", TAG_END());
	} else {
		if (sj->acl_watcher[0]) {
			pres_acl_cache_set(ps, sj->owner, sj->acl_watcher, sj->acl_rule);
			log_info("event=acl owner=%s watcher=%s rule=%s", log_value(sj->owner),
				 log_value(sj->acl_watcher), log_value(sj->acl_rule));
			pres_acl_refresh(ps, sj->owner);
		}
		/* the answer first: the client must know a new group's id before any list
		 * (the request is gone after it) */
		if (sj->added)
			reply_group_added(&r, sj->added);
		else
			presence_reply(&r, SIP_200_OK, TAG_END());
		if (j->rc > 0)
			pres_sipe_contacts_changed(ps, sj->owner,
						   sj->device[0] ? sj->device : NULL);
	}
	sj->msg = r.msg; /* not answered: freed below */
}

static void
service_free(struct pres_job *j)
{
	struct service_job *sj = (struct service_job *)j;

	if (sj->msg)
		msg_destroy(sj->msg);
	tport_unref(sj->tp);
	free(sj);
}

void
pres_sipe_service(struct pres_req *r)
{
	const sip_t *sip = r->sip;
	const url_t *ru = sip->sip_request->rq_url;
	char target[256];
	struct service_job *sj;
	const char *epid;
	struct pres_status st;
	int rc;

	if (ru->url_user &&
	    (sip_url_aor(target, sizeof(target), ru) < 0 || strcasecmp(target, r->user) != 0)) {
		presence_reply(r, 403, "SERVICE only for oneself", TAG_END());
		return;
	}
	if (!sip->sip_payload || sip->sip_payload->pl_len == 0) {
		presence_reply(r, SIP_200_OK, TAG_END());
		return;
	}
	sj = calloc(1, sizeof(*sj));
	if (sj == NULL) {
		presence_reply(r, 500, "Out of memory", TAG_END());
		return;
	}
	rc = pres_soap_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, r->ps->max_doc,
			     &sj->soap);
	if (rc != DOC_OK) {
		free(sj);
		presence_reply(r, rc, rc == DOC_TOO_LARGE ? "SOAP body too large" : "Bad SOAP body",
			       TAG_END());
		return;
	}
	if (strcmp(sj->soap.method, "setPresence") == 0) {
		/* answered once the publication is durable, as a PUBLISH */
		soap_status(&sj->soap, &st);
		log_info("event=set-presence user=%s open=%d activity=%s", log_value(r->user),
			 st.open, pres_activity_name(st.activity));
		free(sj);
		pres_pub_soap(r->ps, r->user, &st, r);
		if (r->msg) /* not waiting for the write */
			presence_reply(r, SIP_200_OK, TAG_END());
		return;
	}
	epid = msg_params_find(sip->sip_from->a_params, "epid=");
	snprintf(sj->device, sizeof(sj->device), "%s", epid ? epid : "");
	snprintf(sj->owner, sizeof(sj->owner), "%s", r->user);
	snprintf(sj->self, sizeof(sj->self), "%s", r->ps->self);
	sj->w = r->w;
	sj->msg = r->msg;
	sj->tp = r->tp ? tport_ref(r->tp) : sip_msg_tport(r->w, r->msg);
	r->msg = NULL; /* the job answers it */
	sj->job.run = service_run;
	sj->job.done = service_done;
	sj->job.free = service_free;
	pres_job_submit(r->ps, &sj->job);
}

static void
group_cb(int64_t id, const char *name, void *arg)
{
	char *esc = pres_xml_escape(name);

	if (esc == NULL)
		((struct pres_buf *)arg)->failed = true;
	else
		pres_buf_printf(arg, "<group id=\"%" PRId64 "\" name=\"%s\" externalURI=\"\"/>\n",
				id, esc);
	free(esc);
}

static void
contact_cb(const char *uri, const char *name, const char *groups, int subscribed, void *arg)
{
	char *u = pres_xml_escape(uri), *n = pres_xml_escape(name), *g = pres_xml_escape(groups);

	if (u && n && g)
		pres_buf_printf(arg,
				"<contact uri=\"%s\" name=\"%s\" groups=\"%s\" subscribed=\"%s\""
				" externalURI=\"\"/>\n",
				u, n, g[0] ? g : "1", subscribed ? "true" : "false");
	else
		((struct pres_buf *)arg)->failed = true;
	free(u);
	free(n);
	free(g);
}

/* The owner's contact list as legacy clients read it (a presence job's run). */
char *
pres_sipe_contacts_build(struct gwstore *st, const char *owner)
{
	struct pres_buf b = {0};

	pres_buf_printf(&b,
			"<contactList deltaNum=\"%" PRId64 "\" xmlns=\"" CONTACTLIST_NS "\">\n"
			"<group id=\"1\" name=\"~\" externalURI=\"\"/>\n",
			gwstore_delta(st, owner));
	gwstore_groups_each(st, owner, group_cb, &b);
	gwstore_contacts_each(st, owner, contact_cb, &b);
	pres_buf_printf(&b, "</contactList>\n");
	return pres_buf_take(&b);
}

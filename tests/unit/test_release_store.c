/* Unit tests for release/record.c, release/store.c and release/lock.c: the
 * record codec, the memory store, the Secrets store and the Lease through an
 * in-memory API server (fake_api.c). */
#include "unit.h"
#include "fake_api.h"
#include "record_fixture.h"
#include "core/alloc.h"
#include "release/lock.h"
#include "release/record.h"
#include "release/release.h"
#include "release/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static doc_node *js_doc(karena *a, const char *text)
{
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	if (doc_load_json(&d, a, "t", text, strlen(text), &e))
		unit_fail(__FILE__, __LINE__, "bad test JSON: %s", e.first.msg);
	kerr_clear(&e);
	return d;
}

static char *to_json(const rel_record *r)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	CHECK_INT_EQ(rel_record_to_json(&b, r, &e), 0);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

/* A record with every kind of field: absent and existing objects, a key
 * merge with formatting in its prior string, a key that was absent, keep. */
static rel_record *sample(karena *a, const char *name, int rev)
{
	rel_record *r = rel_record_new(a, name, rev);
	rel_rec_stage *s;
	rel_rec_object *o;
	doc_node *vals = js_doc(a, "{\"db\":{\"password\":\"hunter2\",\"user\":\"u\"},\"replicas\":3}");
	doc_node *schema = js_doc(a, "{\"properties\":{\"db\":{\"properties\":{\"password\":{\"x-kstage-secret\":true}}}}}");
	r->created_ms = 1765000000123;
	r->updated_ms = 1765000060456;
	r->description = "apply failed at stage config";
	r->bundle_name = "kserve-gateway";
	r->bundle_version = "1.2.0";
	r->bundle_digest = "sha256:aaaa";
	r->lock_digest = "sha256:bbbb";
	r->holder = "host pid 1 job GITHUB_RUN_ID=7";
	rel_record_set_values(a, r, vals, schema, NULL);
	s = rel_record_add_stage(a, r, "crds");
	s->result = REL_SR_SUCCEEDED;
	s->started_ms = 1765000001000;
	s->finished_ms = 1765000002500;
	s->manifest = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n";
	o = rel_record_add_object(a, s, "apiextensions.k8s.io/v1", "CustomResourceDefinition", NULL, "gateways.x.io", NULL);
	o->keep = true;
	s = rel_record_add_stage(a, r, "config");
	s->result = REL_SR_FAILED;
	s->error = "timeout: Deployment/kserve/ctl not ready";
	rel_record_add_object(a, s, "v1", "ConfigMap", "kserve", "plain",
			      js_doc(a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"plain\","
					"\"namespace\":\"kserve\",\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\"}}"));
	o = rel_record_add_object(a, s, "v1", "ConfigMap", "kserve", "inferenceservice-config",
				  js_doc(a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}"));
	o->key = "ingress";
	o->key_prior = "{\n    \"ingressGateway\" : \"knative-serving/x\",\t\"b\": 1 }\n";
	o->key_prior_len = strlen(o->key_prior);
	o = rel_record_add_object(a, s, "v1", "ConfigMap", "kserve", "other", js_doc(a, "{\"kind\":\"ConfigMap\"}"));
	o->key = "newkey";   /* the key did not exist: key_prior NULL */
	s = rel_record_add_stage(a, r, "verify");
	rel_record_add_object(a, s, "serving.kserve.io/v1beta1", "InferenceService", "t", "iris", NULL);
	return r;
}

TEST(release_record_round_trip_memory_store)
{
	karena a = KARENA_INIT, b = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_store *st = rel_store_memory();
	rel_record *r = sample(&a, "demo", 1), *got = NULL;
	char *want, *have;
	CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	CHECK_INT_EQ(rel_store_create(st, r, &e), KE_CONFLICT);
	kerr_clear(&e);
	CHECK_INT_EQ(rel_store_get(st, &b, "demo", 1, &got, &e), 0);
	if (!got) {
		rel_store_free(st);
		karena_release(&a);
		karena_release(&b);
		return;
	}
	want = to_json(r);
	have = to_json(got);
	CHECK_STR_EQ(have, want);
	CHECK_CONTAINS(have, "\"password\":\"<redacted>\"");
	CHECK(!strstr(have, "hunter2"));
	CHECK_INT_EQ(got->nstages, 3);
	CHECK_INT_EQ(got->stages[1].nobjects, 3);
	if (got->nstages != 3 || got->stages[2].nobjects != 1) {
		free(want);
		free(have);
		rel_store_free(st);
		karena_release(&a);
		karena_release(&b);
		return;
	}
	CHECK(!got->stages[0].objects[0].existed);
	CHECK(got->stages[0].objects[0].keep);
	CHECK_STR_EQ(got->stages[1].objects[1].key_prior, "{\n    \"ingressGateway\" : \"knative-serving/x\",\t\"b\": 1 }\n");
	CHECK_STR_EQ(got->stages[1].objects[2].key, "newkey");
	CHECK(got->stages[1].objects[2].key_prior == NULL);
	CHECK_INT_EQ(got->updated_ms, 1765000060456);
	CHECK_INT_EQ(got->stages[0].finished_ms, 1765000002500);
	CHECK_STR_EQ(rel_rec_object_ref(&b, &got->stages[1].objects[0]), "ConfigMap/kserve/plain");
	CHECK(!got->stages[2].objects[0].cleaned);
	CHECK(!strstr(have, "\"cleaned\""));
	/* a test's cleanup, noted: every entry of the object (any version), kept through the store */
	{
		rel_rec_object id = { 0 };
		id.api_version = "serving.kserve.io/v1";
		id.kind = "InferenceService";
		id.ns = "t";
		id.name = "iris";
		CHECK_INT_EQ(rel_record_mark_cleaned(r, &id), 1);
		id.ns = "u";
		CHECK_INT_EQ(rel_record_mark_cleaned(r, &id), 0);
		CHECK_INT_EQ(rel_store_update(st, r, &e), 0);
		CHECK_INT_EQ(rel_store_get(st, &b, "demo", 1, &got, &e), 0);
		CHECK(got && got->stages[2].objects[0].cleaned && !got->stages[1].objects[0].cleaned);
	}
	/* an update is seen whole */
	r->status = REL_ST_ROLLED_BACK;
	r->stages[1].result = REL_SR_ROLLED_BACK;
	CHECK_INT_EQ(rel_store_update(st, r, &e), 0);
	CHECK_INT_EQ(rel_store_get(st, &b, "demo", 1, &got, &e), 0);
	CHECK(got && got->status == REL_ST_ROLLED_BACK && got->stages[1].result == REL_SR_ROLLED_BACK);
	/* names are checked */
	CHECK_INT_EQ(rel_store_get(st, &b, "Bad_Name", 1, &got, &e), KE_USAGE);
	CHECK_CONTAINS(e.first.msg, "DNS-1123");
	kerr_clear(&e);
	CHECK_INT_EQ(rel_store_get(st, &b, "demo", 9, &got, &e), KE_NOTFOUND);
	kerr_clear(&e);
	free(want);
	free(have);
	rel_store_free(st);
	karena_release(&a);
	karena_release(&b);
}

TEST(release_record_times)
{
	kbuf b = KBUF_INIT;
	rel_time_format(&b, 1765051200123);
	CHECK_STR_EQ(b.ptr, "2025-12-06T20:00:00.123Z");
	CHECK_INT_EQ(rel_time_parse(b.ptr), 1765051200123);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T20:00:00Z"), 1765051200000);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T20:00:00.123456Z"), 1765051200123);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T21:00:00+01:00"), 1765051200000);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T19:30:00.123456789-00:30"), 1765051200123);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T20:00:00+1:00"), -1);
	CHECK_INT_EQ(rel_time_parse("2025-12-06T20:00:00+01:60"), -1);
	CHECK_INT_EQ(rel_time_parse("2025-13-06T20:00:00Z"), -1);
	CHECK_INT_EQ(rel_time_parse("yesterday"), -1);
	kbuf_release(&b);
}

/* ---- the Secrets store through the fake API server ---- */

static const char *part_name(karena *a, const char *name, int rev, int gen, int i)
{
	return karena_printf(a, "kstage.v1.%s.v%d.g%dp%d", name, rev, gen, i);
}

/* data.release of a Secret as stored in the fake */
static doc_node *release_data(fake_api *f, const char *sname)
{
	doc_node *s = fake_api_find(f, "kstage-system/secrets", sname);
	return s ? doc_get_path(s, "data.release") : NULL;
}

TEST(release_store_secrets_5000_objects_split_and_refused_when_damaged)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT, b = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *r, *got = NULL;
	rel_rec_summary *h = NULL;
	size_t n = 0;
	char *want, *have;
	doc_node *d;
	fake_api_init(&f);
	c = fake_api_client(&f);
	st = rel_store_secrets(c, NULL);
	r = record_fixture_big(&a, "bulk", 1, 5000);
	CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	/* the namespace was created, the payload split over head + parts */
	CHECK(fake_api_find(&f, "namespaces", "kstage-system") != NULL);
	CHECK_INT_EQ(rel_store_history(st, &b, "bulk", &h, &n, &e), 0);
	CHECK_INT_EQ(n, 1);
	CHECK(n == 1 && h[0].parts >= 2);
	CHECK_INT_EQ(fake_api_count(&f, "kstage-system/secrets"), n == 1 ? h[0].parts : 0);
	CHECK(n == 1 && h[0].size > REL_PART_SIZE && h[0].status == REL_ST_PENDING);
	{
		doc_node *head = fake_api_find(&f, "kstage-system/secrets", "kstage.v1.bulk.v1");
		CHECK_STR_EQ(doc_get_str(head, "type", NULL), "kstage.dev/release.v1");
		CHECK_STR_EQ(doc_get_str(head, "metadata.labels.owner", NULL), "kstage");
		CHECK_STR_EQ(doc_get_str(head, "metadata.labels.revision", NULL), "1");
		CHECK_STR_EQ(doc_get_str(head, "metadata.labels.status", NULL), "pending");
	}
	/* one LIST reads the whole revision */
	f.lists = f.gets = 0;
	CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), 0);
	CHECK_INT_EQ(f.gets, 1);
	CHECK(got && got->stages[0].nobjects == 5000);
	want = to_json(r);
	have = got ? to_json(got) : xstrdup("");
	CHECK(!strcmp(want, have));
	free(have);

	/* a byte changed in part 2: refused by the checksum */
	d = release_data(&f, part_name(&a, "bulk", 1, 1, 1));
	CHECK(d != NULL);
	if (d) {
		char keep = d->u.s.ptr[100];
		d->u.s.ptr[100] = keep == 'A' ? 'B' : 'A';
		got = (rel_record *)1;
		CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), KE_INPUT);
		CHECK(got == NULL);
		CHECK_CONTAINS(e.first.msg, "release record bulk revision 1 is corrupt: sha256");
		kerr_clear(&e);
		d->u.s.ptr[100] = keep;
	}
	/* the last part truncated */
	{
		size_t last = n == 1 ? h[0].parts - 1 : 1;
		d = release_data(&f, part_name(&a, "bulk", 1, 1, (int)last));
		if (d) {
			size_t keep = d->u.s.len;
			d->u.s.len -= 8;
			CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), KE_INPUT);
			CHECK_CONTAINS(e.first.msg, "is truncated");
			kerr_clear(&e);
			d->u.s.len = keep;
		}
	}
	/* a part missing */
	{
		doc_node *p = fake_api_find(&f, "kstage-system/secrets", part_name(&a, "bulk", 1, 1, 1));
		doc_node *lbl = p ? doc_get_path(p, "metadata.labels") : doc_new_map(&a);
		doc_map_del(lbl, "name");   /* no longer selected */
		CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "release record bulk revision 1 is incomplete: part 2 of");
		kerr_clear(&e);
		doc_map_set(&f.a, lbl, "name", doc_new_str(&f.a, "bulk"));
	}
	/* sizes that do not add up */
	{
		doc_node *ann = doc_get_path(fake_api_find(&f, "kstage-system/secrets", "kstage.v1.bulk.v1"), "metadata.annotations");
		doc_node *keep = doc_map_get(ann, "kstage.dev/size");
		doc_map_set(&f.a, ann, "kstage.dev/size", doc_new_str(&f.a, "1"));
		CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "do not fit");
		kerr_clear(&e);
		doc_map_set(&f.a, ann, "kstage.dev/size", keep);
	}
	CHECK_INT_EQ(rel_store_get(st, &b, "bulk", 1, &got, &e), 0);
	free(want);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
	karena_release(&b);
}

/* Write a one-part head by hand: payload bytes with matching annotations. */
static void hand_head(fake_api *f, karena *a, const char *name, int rev, const void *payload, size_t len)
{
	kbuf b = KBUF_INIT, d = KBUF_INIT;
	char sha[65];
	rel_sha256_hex(sha, payload, len);
	kube_b64_encode(&d, payload, len);
	kbuf_printf(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kstage.dev/release.v1\",\"metadata\":{"
		    "\"name\":\"kstage.v1.%s.v%d\",\"namespace\":\"kstage-system\",\"labels\":{\"owner\":\"kstage\","
		    "\"name\":\"%s\",\"revision\":\"%d\",\"status\":\"deployed\"},\"annotations\":{\"kstage.dev/parts\":\"1\","
		    "\"kstage.dev/size\":\"%zu\",\"kstage.dev/sha256\":\"%s\",\"kstage.dev/generation\":\"1\"}},"
		    "\"data\":{\"release\":\"%s\"}}", name, rev, name, rev, len, sha, d.ptr);
	fake_api_put(f, "kstage-system/secrets", karena_printf(a, "kstage.v1.%s.v%d", name, rev), js_doc(&f->a, b.ptr));
	kbuf_release(&b);
	kbuf_release(&d);
}

/* A fake API server with the release namespace, a client (*c) and a
 * store of release records on it, for records written by hand. */
static rel_store *hand_store(fake_api *f, kube_client **c)
{
	fake_api_init(f);
	fake_api_put(f, "namespaces", "kstage-system", js_doc(&f->a, "{\"metadata\":{\"name\":\"kstage-system\"}}"));
	*c = fake_api_client(f);
	return rel_store_secrets(*c, NULL);
}

/* A listed head whose name is not the one its labels give (a copy under
 * another name, revision 1 listed as kstage.v1.x.v9) makes the history
 * corrupt: refused whole, naming the item, never half-used. */
TEST(release_store_refuses_misnamed_records_in_a_history)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_rec_summary *h = NULL;
	size_t n = 0;
	st = hand_store(&f, &c);
	hand_head(&f, &a, "x", 1, "payload", 7);
	CHECK_INT_EQ(rel_store_history(st, &a, "x", &h, &n, &e), 0);
	CHECK_INT_EQ(n, 1);
	{
		doc_node *copy = doc_copy(&f.a, fake_api_find(&f, "kstage-system/secrets", "kstage.v1.x.v1"));
		doc_node *md = doc_map_get(copy, "metadata");
		doc_map_set(&f.a, md, "name", doc_new_str(&f.a, "kstage.v1.x.v9"));
		fake_api_put(&f, "kstage-system/secrets", "kstage.v1.x.v9", copy);
	}
	CHECK_INT_EQ(rel_store_history(st, &a, "x", &h, &n, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "release record Secret \"kstage.v1.x.v9\" (item 2 of GET /api/v1/namespaces/kstage-system/secrets) is corrupt");
	CHECK_CONTAINS(e.first.msg, "revision 1 is named kstage.v1.x.v1");
	kerr_clear(&e);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
}

TEST(release_store_refuses_records_that_checksum_but_do_not_decode)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *got = NULL;
	kbuf gz = KBUF_INIT;
	st = hand_store(&f, &c);
	/* not gzip */
	hand_head(&f, &a, "x", 1, "not gzip at all", 15);
	CHECK_INT_EQ(rel_store_get(st, &a, "x", 1, &got, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "release record x revision 1 is corrupt: bad gzip data");
	kerr_clear(&e);
	/* gzip of a record of another revision */
	{
		rel_record *r = sample(&a, "x", 7);
		CHECK_INT_EQ(rel_record_encode(&gz, r, &e), 0);
		hand_head(&f, &a, "x", 2, gz.ptr, gz.len);
		CHECK_INT_EQ(rel_store_get(st, &a, "x", 2, &got, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "it holds release \"x\" revision 7");
		kerr_clear(&e);
		/* the gzip stream cut short (checksum of what is there) */
		hand_head(&f, &a, "x", 3, gz.ptr, gz.len - 10);
		CHECK_INT_EQ(rel_store_get(st, &a, "x", 3, &got, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "gzip data ends early");
		kerr_clear(&e);
	}
	/* JSON with a field of the wrong type */
	{
		rel_record *r2 = NULL;
		doc_node *d = js_doc(&a, "{\"name\":\"x\",\"revision\":4,\"status\":\"deployed\",\"stages\":{}}");
		CHECK_INT_EQ(rel_record_from_doc(&r2, &a, d, "release record x revision 4", &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "release record x revision 4 is corrupt: stages is not a list");
		kerr_clear(&e);
		d = js_doc(&a, "{\"name\":\"x\",\"revision\":4,\"status\":\"happy\",\"stages\":[]}");
		CHECK_INT_EQ(rel_record_from_doc(&r2, &a, d, "r", &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "\"happy\" is not a release status");
		kerr_clear(&e);
		d = js_doc(&a, "{\"name\":\"x\",\"revision\":4,\"status\":\"failed\",\"stages\":[{\"name\":\"s\",\"result\":\"failed\","
			       "\"objects\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"c\",\"prior\":7}]}]}");
		CHECK_INT_EQ(rel_record_from_doc(&r2, &a, d, "r", &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "stages[0].objects[0].prior is neither an object nor \"absent\"");
		kerr_clear(&e);
	}
	/* a part count past the limit is refused before anything is read */
	{
		doc_node *ann = doc_get_path(fake_api_find(&f, "kstage-system/secrets", "kstage.v1.x.v2"), "metadata.annotations");
		doc_map_set(&f.a, ann, "kstage.dev/parts", doc_new_str(&f.a, "100000"));
		CHECK_INT_EQ(rel_store_get(st, &a, "x", 2, &got, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "must be numbers (parts 1 to 64)");
		kerr_clear(&e);
	}
	kbuf_release(&gz);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
}

TEST(release_store_update_is_crash_safe)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT, b = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *r, *got = NULL;
	size_t before;
	fake_api_init(&f);
	c = fake_api_client(&f);
	st = rel_store_secrets(c, "records");
	r = record_fixture_big(&a, "up", 1, 5000);
	CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	before = fake_api_count(&f, "records/secrets");
	CHECK(before >= 2);
	/* the head PUT fails: the old record stays whole, the new parts go */
	r->status = REL_ST_FAILED;
	f.fail_method = "PUT";
	f.fail_count = 1;
	CHECK_INT_EQ(rel_store_update(st, r, &e), KE_CLUSTER);   /* a 500 */
	kerr_clear(&e);
	CHECK_INT_EQ(fake_api_count(&f, "records/secrets"), before);
	CHECK_INT_EQ(rel_store_get(st, &b, "up", 1, &got, &e), 0);
	CHECK(got && got->status == REL_ST_PENDING);
	/* a run killed between the parts and the head leaves parts of a later
	 * generation: the head still reads, the next update goes past them */
	{
		const char *orphan = part_name(&a, "up", 1, 5, 1);
		doc_node *p = doc_copy(&f.a, fake_api_find(&f, "records/secrets", part_name(&a, "up", 1, 1, 1)));
		doc_set_path(&f.a, p, "metadata.name", doc_new_str(&f.a, orphan));
		doc_map_set(&f.a, doc_get_path(p, "metadata.labels"), "kstage.dev/part", doc_new_str(&f.a, "g5p1"));
		fake_api_put(&f, "records/secrets", orphan, p);
		CHECK_INT_EQ(rel_store_get(st, &b, "up", 1, &got, &e), 0);
		CHECK(got && got->status == REL_ST_PENDING);
		r->stages[0].result = REL_SR_FAILED;
		CHECK_INT_EQ(rel_store_update(st, r, &e), 0);
		CHECK(fake_api_find(&f, "records/secrets", orphan) == NULL);
		CHECK_STR_EQ(doc_get_str(doc_get_path(fake_api_find(&f, "records/secrets", "kstage.v1.up.v1"), "metadata.annotations"),
					 "kstage\\.dev/generation", NULL), "6");
	}
	CHECK_INT_EQ(rel_store_get(st, &b, "up", 1, &got, &e), 0);
	CHECK(got && got->status == REL_ST_FAILED && got->stages[0].result == REL_SR_FAILED);
	/* the old generation's parts are gone */
	CHECK_INT_EQ(fake_api_count(&f, "records/secrets"), before);
	CHECK(fake_api_find(&f, "records/secrets", part_name(&a, "up", 1, 1, 1)) == NULL);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
	karena_release(&b);
}

/* A write whose answer was lost (the server carried it out, the client
 * saw a 500 or a reset and sent it again) answers 409 on the second try:
 * the record is ours, as written, and the run goes on (issue 13, found by
 * the chaos e2e). Each of a part's POST, the head's POST and its PUT. */
TEST(release_store_lost_reply_of_its_own_write_is_not_a_conflict)
{
	static const struct { const char *method, *path; } lose[] = {
		{ "POST", "/records/secrets" }, { "POST", "/records/secrets" }, { "PUT", "/secrets/kstage.v1.lost.v1" },
	};
	size_t k;
	for (k = 0; k < sizeof(lose) / sizeof(lose[0]); k++) {
		fake_api f;
		kube_client *c;
		rel_store *st;
		karena a = KARENA_INIT, b = KARENA_INIT;
		kerr e = KERR_INIT;
		rel_record *r, *got = NULL;
		fake_api_init(&f);
		c = fake_api_client(&f);
		c->max_attempts = 2;
		st = rel_store_secrets(c, "records");
		/* a record in parts: the first POST is a part's; one in a single
		 * Secret: the first POST is the head's */
		r = k == 1 ? sample(&a, "lost", 1) : record_fixture_big(&a, "lost", 1, 5000);
		f.lose_method = lose[k].method;
		f.lose_path = lose[k].path;
		f.lose_count = k == 2 ? 0 : 1;
		CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
		if (k == 2) {
			f.lose_count = 1;
			r->status = REL_ST_DEPLOYED;
			CHECK_INT_EQ(rel_store_update(st, r, &e), 0);
		}
		CHECK_MSG(!e.code, "case %zu: %s", k, e.first.msg ? e.first.msg : "");
		kerr_clear(&e);
		CHECK_INT_EQ(f.lose_count, 0);
		CHECK_INT_EQ(rel_store_get(st, &b, "lost", 1, &got, &e), 0);
		CHECK(got && got->status == (k == 2 ? REL_ST_DEPLOYED : REL_ST_PENDING));
		/* and the store goes on from what it read back */
		if (got) {
			r->status = REL_ST_FAILED;
			CHECK_INT_EQ(rel_store_update(st, r, &e), 0);
			kerr_clear(&e);
		}
		rel_store_free(st);
		kube_client_free(c);
		fake_api_release(&f);
		karena_release(&a);
		karena_release(&b);
	}
}

static void stale_head(fake_api *f, const char *path)
{
	if (strstr(path, "/secrets/")) {
		doc_node *head = fake_api_find(f, "kstage-system/secrets", "kstage.v1.race.v1");
		if (head)
			fake_api_put(f, "kstage-system/secrets", "kstage.v1.race.v1", head);
	}
}

TEST(release_store_update_conflict_names_the_revision)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *r;
	fake_api_init(&f);
	c = fake_api_client(&f);
	st = rel_store_secrets(c, NULL);
	r = sample(&a, "race", 1);
	CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	f.before_put = stale_head;
	CHECK_INT_EQ(rel_store_update(st, r, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "release \"race\" revision 1 was changed by another run meanwhile");
	kerr_clear(&e);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
}

static void prune_case(rel_store *st, const char *what)
{
	static const rel_status sts[14] = {
		REL_ST_SUPERSEDED, REL_ST_FAILED, REL_ST_SUPERSEDED, REL_ST_ROLLED_BACK, REL_ST_SUPERSEDED,
		REL_ST_DEPLOYED, REL_ST_SUPERSEDED, REL_ST_SUPERSEDED, REL_ST_SUPERSEDED, REL_ST_SUPERSEDED,
		REL_ST_SUPERSEDED, REL_ST_SUPERSEDED, REL_ST_FAILED, REL_ST_PENDING,
	};
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_rec_summary *h = NULL, last;
	size_t n = 0, removed = 0, i;
	int i2;
	kbuf got = KBUF_INIT;
	for (i2 = 14; i2 >= 1; i2--) {   /* out of order: history sorts */
		rel_record *r = rel_record_new(&a, "app", i2);
		r->status = sts[i2 - 1];
		CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	}
	CHECK_INT_EQ(rel_store_prune(st, "app", 10, &removed, &e), 0);
	CHECK_INT_EQ(removed, 4);
	CHECK_INT_EQ(rel_store_history(st, &a, "app", &h, &n, &e), 0);
	for (i = 0; i < n; i++)
		kbuf_printf(&got, "%s%d", i ? "," : "", h[i].revision);
	/* 1 to 4 went (each kind of status but deployed and pending) */
	CHECK_MSG(!strcmp(got.ptr, "5,6,7,8,9,10,11,12,13,14"), "%s: history after prune: %s", what, got.ptr);
	CHECK_INT_EQ(rel_store_latest(st, &a, "app", &last, &e), 0);
	CHECK_INT_EQ(last.revision, 14);
	CHECK(last.status == REL_ST_PENDING);
	/* nothing more to do; 0 is no limit */
	CHECK_INT_EQ(rel_store_prune(st, "app", 10, &removed, &e), 0);
	CHECK_INT_EQ(removed, 0);
	CHECK_INT_EQ(rel_store_prune(st, "app", 0, &removed, &e), 0);
	CHECK_INT_EQ(removed, 0);
	/* max 3: 5 goes, then the deployed 6 stops the pruning (only the
	 * oldest go, so that their changes fold into the oldest kept record) */
	CHECK_INT_EQ(rel_store_prune(st, "app", 3, &removed, &e), 0);
	CHECK_INT_EQ(removed, 1);
	CHECK_INT_EQ(rel_store_history(st, &a, "app", &h, &n, &e), 0);
	CHECK_INT_EQ(n, 9);
	CHECK_INT_EQ(h[0].revision, 6);
	CHECK_INT_EQ(rel_store_latest(st, &a, "nothing", &last, &e), KE_NOTFOUND);
	CHECK_CONTAINS(e.first.msg, "release \"nothing\" has no records");
	kerr_clear(&e);
	kbuf_release(&got);
	karena_release(&a);
}

TEST(release_store_prune_keeps_deployed_and_pending)
{
	fake_api f;
	kube_client *c;
	rel_store *st = rel_store_memory();
	prune_case(st, "memory");
	rel_store_free(st);
	fake_api_init(&f);
	c = fake_api_client(&f);
	st = rel_store_secrets(c, NULL);
	prune_case(st, "secrets");
	CHECK_INT_EQ(fake_api_count(&f, "kstage-system/secrets"), 9);
	/* history is one LIST, whatever the number of revisions */
	{
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		rel_rec_summary *h;
		size_t n;
		f.gets = 0;
		CHECK_INT_EQ(rel_store_history(st, &a, "app", &h, &n, &e), 0);
		CHECK_INT_EQ(f.gets, 1);
		karena_release(&a);
	}
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
}

/* ---- the Lease ---- */

/* A record of release "o" whose one stage touched cm (prior: a ConfigMap
 * whose data.k is val, or absent when val is NULL), with a jsonKeyMerge key
 * prior kp (or none). */
static rel_record *touching(karena *a, int rev, rel_status st, const char *cm, const char *val, const char *kp)
{
	rel_record *r = rel_record_new(a, "o", rev);
	rel_rec_stage *s = rel_record_add_stage(a, r, "one");
	rel_rec_object *o;
	doc_node *prior = NULL;
	r->status = st;
	s->result = REL_SR_SUCCEEDED;
	if (val)
		prior = js_doc(a, karena_printf(a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
					      "{\"name\":\"%s\",\"namespace\":\"ns\"},\"data\":{\"k\":\"%s\"}}", cm, val));
	o = rel_record_add_object(a, s, "v1", "ConfigMap", "ns", cm, prior);
	if (kp) {
		o->key = "k";
		o->key_prior = kp;
		o->key_prior_len = strlen(kp);
	}
	return r;
}

/* "name=prior" for each origin entry of revision rev ("name=absent"; with
 * the key prior after a colon). */
static void origin_of(rel_store *st, karena *a, int rev, kbuf *out)
{
	kerr e = KERR_INIT;
	rel_record *r = NULL;
	size_t i;
	kbuf_reset(out);
	CHECK_INT_EQ(rel_store_get(st, a, "o", rev, &r, &e), 0);
	if (!r || !r->origin) {
		kbuf_puts(out, "(none)");
		return;
	}
	for (i = 0; i < r->origin->nobjects; i++) {
		const rel_rec_object *o = &r->origin->objects[i];
		kbuf_printf(out, "%s%s=%s", i ? " " : "", o->name, o->existed ? doc_get_str(o->prior, "data.k", "?") : "absent");
		if (o->key)
			kbuf_printf(out, ":%.*s", (int)o->key_prior_len, o->key_prior);
	}
}

TEST(release_store_prune_folds_the_earliest_prior_states_into_the_oldest_kept)
{
	rel_store *st = rel_store_memory();
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf got = KBUF_INIT;
	size_t removed = 0;
	/* 1 patched the foreign "cfg" (key k was " a\n") and created "one";
	 * 2 failed and was rolled back (its journal is not in effect); 3
	 * touched cfg again and created "three"; 4 and 5 are later */
	{
		rel_record *r1 = touching(&a, 1, REL_ST_SUPERSEDED, "cfg", "orig", " a\n");
		rel_record_add_object(&a, &r1->stages[0], "v1", "ConfigMap", "ns", "one", NULL);
		CHECK_INT_EQ(rel_store_create(st, r1, &e), 0);
	}
	CHECK_INT_EQ(rel_store_create(st, touching(&a, 2, REL_ST_ROLLED_BACK, "two", NULL, NULL), &e), 0);
	CHECK_INT_EQ(rel_store_create(st, touching(&a, 3, REL_ST_SUPERSEDED, "cfg", "rev1", "rev1"), &e), 0);
	CHECK_INT_EQ(rel_store_create(st, touching(&a, 4, REL_ST_SUPERSEDED, "cfg", "rev3", "rev3"), &e), 0);
	CHECK_INT_EQ(rel_store_create(st, touching(&a, 5, REL_ST_DEPLOYED, "cfg", "rev4", "rev4"), &e), 0);
	CHECK_INT_EQ(rel_store_prune(st, "o", 3, &removed, &e), 0);
	CHECK_INT_EQ(removed, 2);
	origin_of(st, &a, 3, &got);
	CHECK_MSG(!strcmp(got.ptr, "cfg=orig: a\n one=absent"), "origin of 3: %s", got.ptr);
	/* pruning on: 3's origin comes first, then its own journal */
	CHECK_INT_EQ(rel_store_prune(st, "o", 2, &removed, &e), 0);
	CHECK_INT_EQ(removed, 1);
	origin_of(st, &a, 4, &got);
	CHECK_MSG(!strcmp(got.ptr, "cfg=orig: a\n one=absent"), "origin of 4: %s", got.ptr);
	/* an uninstalled revision put back everything before it */
	CHECK_INT_EQ(rel_store_set_status(st, "o", 4, REL_ST_UNINSTALLED, &e), 0);
	CHECK_INT_EQ(rel_store_create(st, touching(&a, 6, REL_ST_DEPLOYED, "six", NULL, NULL), &e), 0);
	CHECK_INT_EQ(rel_store_set_status(st, "o", 5, REL_ST_UNINSTALLED, &e), 0);
	CHECK_INT_EQ(rel_store_prune(st, "o", 1, &removed, &e), 0);
	CHECK_INT_EQ(removed, 2);
	origin_of(st, &a, 6, &got);
	CHECK_MSG(got.ptr && !strcmp(got.ptr, ""), "origin of 6: %s", got.ptr ? got.ptr : "(null)");
	kerr_clear(&e);
	kbuf_release(&got);
	rel_store_free(st);
	karena_release(&a);
}

static int64_t fake_now;
static int64_t now_fn(void)
{
	return fake_now;
}

TEST(release_lock_acquire_held_expired_renew)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l1, l2, l3;
	rel_lock_opts o = { 0 };
	doc_node *lease;
	fake_api_init(&f);
	c = fake_api_client(&f);
	fake_now = 1765051200000;
	o.release = "app";
	o.identity = "ci-1 pid 10 job GITHUB_RUN_ID=1";
	o.duration_s = 30;
	o.now_ms = now_fn;
	CHECK_INT_EQ(rel_lock_acquire(&l1, c, &o, &e), 0);
	CHECK(l1.held && !l1.took_over);
	lease = fake_api_find(&f, "kstage-system/leases", "kstage.app");
	CHECK_STR_EQ(doc_get_str(lease, "spec.holderIdentity", NULL), "ci-1 pid 10 job GITHUB_RUN_ID=1");
	CHECK_STR_EQ(doc_get_str(lease, "spec.renewTime", NULL), "2025-12-06T20:00:00.000000Z");
	CHECK_INT_EQ(doc_get_int(lease, "spec.leaseDurationSeconds", 0), 30);
	/* a second run is refused at once, naming the holder */
	fake_now += 10000;
	o.identity = "ci-2 pid 20";
	CHECK_INT_EQ(rel_lock_acquire(&l2, c, &o, &e), KE_CONFLICT);
	CHECK(!l2.held);
	CHECK_CONTAINS(e.first.msg, "release \"app\" is locked by another run: ci-1 pid 10 job GITHUB_RUN_ID=1 "
				    "(Lease kstage-system/kstage.app, renewed 10s ago, expires in 20s unless renewed)");
	kerr_clear(&e);
	rel_lock_release(&l2);
	/* renewing pushes expiry */
	fake_now += 15000;
	CHECK_INT_EQ(rel_lock_renew(&l1, &e), 0);
	fake_now += 20000;   /* 20s after the renewal: still held */
	CHECK_INT_EQ(rel_lock_acquire(&l2, c, &o, &e), KE_CONFLICT);
	kerr_clear(&e);
	rel_lock_release(&l2);
	/* expired: taken over and reported */
	fake_now += 11000;
	CHECK_INT_EQ(rel_lock_acquire(&l2, c, &o, &e), 0);
	CHECK(l2.held && l2.took_over);
	CHECK_STR_EQ(l2.prev_holder, "ci-1 pid 10 job GITHUB_RUN_ID=1");
	CHECK_INT_EQ(l2.prev_renew_ms, 1765051225000);
	CHECK_INT_EQ(l2.transitions, 1);
	lease = fake_api_find(&f, "kstage-system/leases", "kstage.app");
	CHECK_INT_EQ(doc_get_int(lease, "spec.leaseTransitions", 0), 1);
	/* the old holder learns it lost the lock, and who has it */
	CHECK_INT_EQ(rel_lock_renew(&l1, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "was taken over by ci-2 pid 20");
	CHECK(!l1.held);
	kerr_clear(&e);
	CHECK_INT_EQ(rel_lock_unlock(&l1, &e), 0);   /* not held: nothing to do */
	/* unlock frees it for the next run */
	CHECK_INT_EQ(rel_lock_unlock(&l2, &e), 0);
	CHECK(fake_api_find(&f, "kstage-system/leases", "kstage.app") == NULL);
	o.identity = "ci-3 pid 30";
	CHECK_INT_EQ(rel_lock_acquire(&l3, c, &o, &e), 0);
	CHECK(l3.held && !l3.took_over);
	rel_lock_release(&l1);
	rel_lock_release(&l2);
	rel_lock_release(&l3);
	kube_client_free(c);
	fake_api_release(&f);
}

/* A fake API for the Lease of release "app" held by "ci-1 pid 10", the
 * clock fixed (fake_now); put_creates as the API server's PUT does. */
static kube_client *lock_fake(fake_api *f, rel_lock_opts *o, bool put_creates)
{
	fake_api_init(f);
	f->put_creates = put_creates;
	fake_now = 1765051200000;
	o->release = "app";
	o->identity = "ci-1 pid 10";
	o->now_ms = now_fn;
	return fake_api_client(f);
}

/* Our Lease expired, another run took it and gave it up (deleted it); the
 * API server creates a Lease from an update of a missing one: the renew
 * says the lock was lost, and leaves no Lease behind. */
TEST(release_lock_renew_of_a_lease_that_was_gone_is_lost)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l;
	rel_lock_opts o = { 0 };
	kube_resp rs;
	c = lock_fake(&f, &o, true);
	CHECK_INT_EQ(rel_lock_acquire(&l, c, &o, &e), 0);
	CHECK_INT_EQ(rel_kube_send(c, "DELETE", "/apis/coordination.k8s.io/v1/namespaces/kstage-system/leases/kstage.app",
				   NULL, &rs, &e), 0);
	kube_resp_release(&rs);
	CHECK_INT_EQ(fake_api_count(&f, "kstage-system/leases"), 0);
	fake_now += 30000;
	CHECK_INT_EQ(rel_lock_renew(&l, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "expired and was gone when this run renewed it");
	CHECK(!l.held);
	CHECK_INT_EQ(fake_api_count(&f, "kstage-system/leases"), 0);
	kerr_clear(&e);
	rel_lock_release(&l);
	kube_client_free(c);
	fake_api_release(&f);
}

/* A renewal whose answer was lost went through: its retry answers 409,
 * the Lease holds this run and the renewTime it sent, so the lock is
 * still ours (issue 13, found by the chaos e2e); a renewal after that
 * goes on from the resourceVersion read back. */
TEST(release_lock_renew_whose_reply_was_lost_is_kept)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l;
	rel_lock_opts o = { 0 };
	c = lock_fake(&f, &o, true);
	c->max_attempts = 2;
	CHECK_INT_EQ(rel_lock_acquire(&l, c, &o, &e), 0);
	fake_now += 20000;
	f.lose_method = "PUT";
	f.lose_count = 1;
	CHECK_INT_EQ(rel_lock_renew(&l, &e), 0);
	CHECK_MSG(!e.code, "%s", e.first.msg ? e.first.msg : "");
	CHECK_INT_EQ(f.lose_count, 0);
	CHECK(l.held && l.renewed_ms == fake_now);
	fake_now += 20000;
	CHECK_INT_EQ(rel_lock_renew(&l, &e), 0);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&f, "kstage-system/leases", "kstage.app"), "spec.renewTime", NULL),
		     "2025-12-06T20:00:40.000000Z");
	kerr_clear(&e);
	rel_lock_release(&l);
	kube_client_free(c);
	fake_api_release(&f);
}

/* The renewer's client sends once and tries again itself, later, with a
 * later renewTime: a renewal that went through but whose answer was lost
 * makes that retry answer 409 with the Lease still naming this run (its
 * identity, its acquireTime) and the earlier renewTime. The lock is still
 * ours (the chaos e2e saw "taken over by" the run's own identity). A
 * Lease taken by another identity, or taken anew by this one (another
 * acquireTime), is lost. */
TEST(release_lock_renew_retried_later_after_a_lost_reply_is_kept)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l;
	rel_lock_opts o = { 0 };
	doc_node *lease;
	c = lock_fake(&f, &o, true);
	c->max_attempts = 1;
	CHECK_INT_EQ(rel_lock_acquire(&l, c, &o, &e), 0);
	fake_now += 20000;
	f.lose_method = "PUT";
	f.lose_count = 1;
	CHECK(rel_lock_renew(&l, &e) != 0);   /* no answer: not a conflict */
	CHECK(e.code != KE_CONFLICT);
	kerr_clear(&e);
	CHECK(l.held);
	fake_now += 3000;   /* the retry: 409, the Lease is ours at 20:00:20 */
	CHECK_INT_EQ(rel_lock_renew(&l, &e), 0);
	CHECK_MSG(!e.code, "%s", e.first.msg ? e.first.msg : "");
	CHECK(l.held && l.renewed_ms == fake_now - 3000);
	CHECK_INT_EQ(rel_lock_renew(&l, &e), 0);   /* and it goes on from there */
	CHECK_INT_EQ(l.renewed_ms, fake_now);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&f, "kstage-system/leases", "kstage.app"), "spec.renewTime", NULL),
		     "2025-12-06T20:00:23.000000Z");
	/* the same identity with another acquireTime is another run's Lease */
	lease = fake_api_find(&f, "kstage-system/leases", "kstage.app");
	doc_set_path(&f.a, lease, "spec.acquireTime", doc_new_str(&f.a, "2025-12-06T20:00:22.000000Z"));
	doc_set_path(&f.a, lease, "metadata.resourceVersion", doc_new_str(&f.a, "999"));
	fake_now += 1000;
	CHECK_INT_EQ(rel_lock_renew(&l, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "was taken over by");
	CHECK(!l.held);
	kerr_clear(&e);
	rel_lock_release(&l);
	kube_client_free(c);
	fake_api_release(&f);
}

/* rel_lock_keep: nothing until a third of the duration, then a renewal;
 * an unanswered renewal is tried again while the Lease lasts, and once it
 * has expired (or was taken) the run is told to stop, at every call. */
TEST(release_lock_keep_renews_when_due_and_stops_once_lost)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l;
	rel_lock_opts o = { 0 };
	c = lock_fake(&f, &o, false);
	c->max_attempts = 1;
	o.duration_s = 30;
	CHECK_INT_EQ(rel_lock_acquire(&l, c, &o, &e), 0);
	fake_now += 9000;   /* before a third of 30 s: no request */
	f.fail_method = "PUT";
	f.fail_count = -1;
	CHECK_INT_EQ(rel_lock_keep(&l, &e), 0);
	CHECK_INT_EQ(l.renewed_ms, 1765051200000);
	f.fail_method = NULL;
	fake_now += 2000;   /* due: renewed */
	CHECK_INT_EQ(rel_lock_keep(&l, &e), 0);
	CHECK_INT_EQ(l.renewed_ms, 1765051211000);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&f, "kstage-system/leases", "kstage.app"), "spec.renewTime", NULL),
		     "2025-12-06T20:00:11.000000Z");
	/* the server does not answer: go on while the Lease lasts */
	f.fail_method = "PUT";
	fake_now += 20000;
	CHECK_INT_EQ(rel_lock_keep(&l, &e), 0);
	CHECK(l.held);
	/* 31 s without a renewal: expired, the run must stop */
	fake_now += 11000;
	CHECK_INT_EQ(rel_lock_keep(&l, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "the lock (Lease kstage-system/kstage.app) could not be renewed for 31s and has expired");
	CHECK(!l.held);
	kerr_clear(&e);
	f.fail_method = NULL;
	CHECK_INT_EQ(rel_lock_keep(&l, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "this run no longer holds its lock");
	kerr_clear(&e);
	rel_lock_release(&l);
	kube_client_free(c);
	fake_api_release(&f);
}

/* The fake behind a mutex: the renewer thread and the test share it. */
typedef struct locked_fake {
	fake_api *f;
	kube_client *inner;
	pthread_mutex_t mu;
} locked_fake;

static int locked_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	locked_fake *lf = impl;
	int rc;
	pthread_mutex_lock(&lf->mu);
	rc = lf->inner->tr.send(lf->inner->tr.impl, req, auth, resp, err);
	pthread_mutex_unlock(&lf->mu);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The renewer thread renews a 2 s Lease by itself while the caller does
 * nothing; once another holder takes it, rel_lock_keep says so, naming it,
 * and unlock leaves the other holder's Lease alone. */
TEST(release_lock_renewer_keeps_the_lease_and_reports_it_lost)
{
	fake_api f;
	locked_fake lf;
	kube_client *c;
	kube_transport tr = { locked_send, NULL, &lf };
	kerr e = KERR_INIT;
	rel_lock l;
	rel_lock_opts o = { 0 };
	char *first;
	doc_node *lease;
	int i;
	fake_api_init(&f);
	lf.f = &f;
	lf.inner = fake_api_client(&f);
	pthread_mutex_init(&lf.mu, NULL);
	c = kube_client_new_with(tr, &f.cfg, NULL);
	o.release = "app";
	o.identity = "ci-1 pid 10";
	o.duration_s = 2;
	CHECK_INT_EQ(rel_lock_acquire(&l, c, &o, &e), 0);
	first = xstrdup(doc_get_str(fake_api_find(&f, "kstage-system/leases", "kstage.app"), "spec.renewTime", ""));
	CHECK_INT_EQ(rel_lock_renewer_start(&l, kube_client_new_with(tr, &f.cfg, NULL), &e), 0);
	sleep_ms(1600);   /* past two thirds of the Lease */
	pthread_mutex_lock(&lf.mu);
	lease = fake_api_find(&f, "kstage-system/leases", "kstage.app");
	CHECK(strcmp(doc_get_str(lease, "spec.renewTime", ""), first) != 0);
	CHECK_STR_EQ(doc_get_str(lease, "spec.holderIdentity", ""), "ci-1 pid 10");
	CHECK(f.puts >= 1);
	/* another run takes it */
	doc_set_path(&f.a, lease, "spec.holderIdentity", doc_new_str(&f.a, "intruder pid 9"));
	fake_api_put(&f, "kstage-system/leases", "kstage.app", lease);
	pthread_mutex_unlock(&lf.mu);
	CHECK_INT_EQ(rel_lock_keep(&l, &e), 0);
	for (i = 0; i < 100 && !rel_lock_keep(&l, &e); i++)
		sleep_ms(50);
	CHECK(i < 100);
	CHECK_CONTAINS(e.first.msg, "the lock (Lease kstage-system/kstage.app) was taken over by intruder pid 9");
	kerr_clear(&e);
	CHECK_INT_EQ(rel_lock_keep(&l, &e), KE_CONFLICT);   /* and at every call from then on */
	kerr_clear(&e);
	CHECK_INT_EQ(rel_lock_unlock(&l, &e), 0);
	CHECK(!l.renewer && !l.held);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&f, "kstage-system/leases", "kstage.app"), "spec.holderIdentity", ""),
		     "intruder pid 9");
	/* the renewer's requests are counted as the run's: every request the
	 * fake answered went through c or the renewer (the run's summary line
	 * says how many requests were sent; the chaos e2e checks it against a
	 * proxy's count) */
	CHECK_INT_EQ((long)c->stats.requests, (long)(f.gets + f.lists + f.posts + f.puts + f.deletes + f.patches));
	rel_lock_release(&l);
	free(first);
	kube_client_free(c);
	kube_client_free(lf.inner);
	pthread_mutex_destroy(&lf.mu);
	fake_api_release(&f);
}

/* Another run takes the expired Lease between our GET and our PUT. */
static void racing_taker(fake_api *f, const char *path)
{
	doc_node *lease = fake_api_find(f, "kstage-system/leases", "kstage.app");
	char ts[64];
	(void)path;
	if (!lease || f->user)
		return;
	f->user = lease;
	snprintf(ts, sizeof(ts), "2025-12-06T20:10:00.000000Z");
	doc_set_path(&f->a, lease, "spec.holderIdentity", doc_new_str(&f->a, "winner pid 99"));
	doc_set_path(&f->a, lease, "spec.renewTime", doc_new_str(&f->a, ts));
	fake_api_put(f, "kstage-system/leases", "kstage.app", lease);
}

TEST(release_lock_race_for_an_expired_lease_has_one_winner)
{
	fake_api f;
	kube_client *c;
	kerr e = KERR_INIT;
	rel_lock l1, l2;
	rel_lock_opts o = { 0 };
	fake_api_init(&f);
	c = fake_api_client(&f);
	fake_now = 1765051200000;
	o.release = "app";
	o.identity = "old pid 1";
	o.duration_s = 30;
	o.now_ms = now_fn;
	CHECK_INT_EQ(rel_lock_acquire(&l1, c, &o, &e), 0);
	fake_now = 1765051800000 + 5000;   /* 20:10:05: expired long ago, the racer renewed at 20:10:00 */
	f.before_put = racing_taker;
	o.identity = "loser pid 2";
	CHECK_INT_EQ(rel_lock_acquire(&l2, c, &o, &e), KE_CONFLICT);
	CHECK_CONTAINS(e.first.msg, "is locked by another run: winner pid 99");
	CHECK(!l2.held && !l2.took_over);
	kerr_clear(&e);
	rel_lock_release(&l1);
	rel_lock_release(&l2);
	kube_client_free(c);
	fake_api_release(&f);
}

TEST(release_lock_identity_names_the_ci_job)
{
	kbuf b = KBUF_INIT;
	const char *old = getenv("GITHUB_RUN_ID");
	char *keep = old ? xstrdup(old) : NULL;
	setenv("GITHUB_RUN_ID", "4242", 1);
	rel_lock_identity(&b);
	CHECK_CONTAINS(b.ptr, " pid ");
	CHECK_CONTAINS(b.ptr, " job GITHUB_RUN_ID=4242");
	if (keep)
		setenv("GITHUB_RUN_ID", keep, 1);
	else
		unsetenv("GITHUB_RUN_ID");
	free(keep);
	kbuf_release(&b);
}

TEST(release_store_summary_description_is_cut_between_utf8_sequences)
{
	fake_api f;
	kube_client *c;
	rel_store *st;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *r;
	rel_rec_summary last;
	kbuf d = KBUF_INIT, want = KBUF_INIT;
	fake_api_init(&f);
	c = fake_api_client(&f);
	st = rel_store_secrets(c, NULL);
	kbuf_putn(&d, 'a', 255);
	kbuf_puts(&d, "\xc3\xa9 and more");   /* the e-acute straddles byte 256 */
	kbuf_putn(&want, 'a', 255);
	r = rel_record_new(&a, "desc", 1);
	r->description = d.ptr;
	CHECK_INT_EQ(rel_store_create(st, r, &e), 0);
	CHECK_INT_EQ(rel_store_latest(st, &a, "desc", &last, &e), 0);
	CHECK_STR_EQ(last.description, want.ptr);
	kbuf_release(&d);
	kbuf_release(&want);
	rel_store_free(st);
	kube_client_free(c);
	fake_api_release(&f);
	karena_release(&a);
}

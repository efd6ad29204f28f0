// SPDX-License-Identifier: GPL-2.0
/*
 * What a loaded program looks like to user space: struct kwasm_prog_show
 * (KWASM_IOC_PROG_LIST, progs.c) and its block of /proc/kwasm lines, both
 * made from the same fill.
 */
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uidgid.h>

#include "hook.h"
#include "kwasm_core.h"
#include "show.h"

static u64 kwasm_sum_run_time(const struct kwasm_attachment *att, u64 *count)
{
	u64 ns = 0;
	int cpu;

	*count = 0;
	for_each_possible_cpu(cpu) {
		const struct kwasm_run_time *rt = per_cpu_ptr(att->run_time, cpu);

		ns += READ_ONCE(rt->ns);
		*count += READ_ONCE(rt->count);
	}
	return ns;
}

void kwasm_show_fill(const struct kwasm_attachment *att,
		     struct kwasm_prog_show *s)
{
	struct kwasm_prog_info info;
	struct kwasm_stats st;

	/* Both are read now: memory and counters change as packets run. */
	kwasm_core_prog_info(att->prog, &info);
	kwasm_core_prog_stats(att->prog, &st);
	memset(s, 0, sizeof(*s));
	strscpy(s->name, info.name, sizeof(s->name));
	s->id = att->id;
	s->family = att->family;
	s->hook = att->ops[0].hooknum;
	s->priority = att->ops[0].priority;
	s->abi = info.abi;
	s->record_version = info.record_version;
	s->default_verdict = info.default_verdict;
	s->snaplen = info.snaplen;
	s->fuel = info.fuel;
	s->load_time_ns = att->load_time_ns;
	s->loader_uid = from_kuid_munged(&init_user_ns, att->loader);
	s->size = info.size;
	memcpy(s->sha256, info.sha256, sizeof(s->sha256));
	s->instances = info.instances;
	s->maps = info.maps;
	s->memory_bytes = info.memory_bytes;
	s->heap_bytes = info.heap_bytes;
	s->map_memory = info.map_memory;
	s->runs = st.runs;
	s->accepted = st.accepted;
	s->dropped = st.dropped;
	s->invalid = st.invalid;
	s->traps = st.traps;
	s->skipped = st.skipped;
	s->busy = st.busy;
	BUILD_BUG_ON(sizeof(s->trap_kind) != sizeof(st.trap_kind));
	memcpy(s->trap_kind, st.trap_kind, sizeof(s->trap_kind));
	s->run_time_ns = kwasm_sum_run_time(att, &s->run_count);
}

static const char * const abi_names[] = {
	[KWASM_ABI_KWASM] = "kwasm",
	[KWASM_ABI_ORIGINAL] = "original",
};

static const char * const map_kind_names[] = {
	[KWASM_MAP_KIND_ARRAY] = "array",
	[KWASM_MAP_KIND_PERCPU_ARRAY] = "percpu_array",
	[KWASM_MAP_KIND_HASH] = "hash",
	[KWASM_MAP_KIND_EVENTS] = "events",
};

/* A line per map, from what KWASM_IOC_MAP_LIST reports too. */
static noinline void kwasm_show_maps(struct seq_file *m,
				     const struct kwasm_prog *prog)
{
	struct kwasm_map_info info;
	struct kwasm_maps *maps;
	u32 i, n;

	maps = kwasm_core_maps_get(prog);
	n = kwasm_core_maps_count(maps);
	for (i = 0; i < n && !kwasm_core_map_info(maps, i, &info); i++)
		seq_printf(m, "map.%s: %s key=%u value=%u max=%u entries=%llu memory=%llu full=%llu\n",
			   info.name,
			   info.kind < ARRAY_SIZE(map_kind_names) &&
			   map_kind_names[info.kind] ?
			   map_kind_names[info.kind] : "?",
			   info.key_size, info.value_size, info.max_entries,
			   info.entries, info.memory, info.full);
	kwasm_core_maps_put(maps);
}

static noinline void kwasm_show_events(struct seq_file *m,
				       const struct kwasm_prog *prog)
{
	struct kwasm_events_info ev;

	if (!kwasm_core_events_info(prog, &ev))
		seq_printf(m, "events: size=%u record=%u written=%llu dropped=%llu reader=%u\n",
			   ev.ring_size, ev.max_record, ev.written,
			   ev.dropped, ev.reader);
}

/* @att's block of /proc/kwasm lines, "key: value" each. */
void kwasm_show_lines(struct seq_file *m, const struct kwasm_attachment *att,
		      struct kwasm_prog_show *s)
{
	u32 i;

	kwasm_show_fill(att, s);
	seq_printf(m, "program: %s\n", s->name);
	seq_printf(m, "id: %u\n", s->id);
	seq_printf(m, "family: %s\n", kwasm_family_name(s->family));
	seq_printf(m, "abi: %s\n", s->abi < ARRAY_SIZE(abi_names) &&
		   abi_names[s->abi] ? abi_names[s->abi] : "?");
	seq_printf(m, "record_version: %u\n", s->record_version);
	seq_printf(m, "size: %u\n", s->size);
	seq_printf(m, "sha256: %*phN\n", (int)sizeof(s->sha256), s->sha256);
	seq_printf(m, "hook: %s\n", kwasm_hook_name(s->hook));
	seq_printf(m, "priority: %d\n", s->priority);
	seq_printf(m, "snaplen: %u\n", s->snaplen);
	seq_printf(m, "default: %s\n",
		   s->default_verdict == KWASM_DROP ? "drop" : "accept");
	seq_printf(m, "fuel: %llu\n", s->fuel);
	seq_printf(m, "load_time: %llu\n", s->load_time_ns);
	seq_printf(m, "loader_uid: %u\n", s->loader_uid);
	seq_printf(m, "instances: %u\n", s->instances);
	seq_printf(m, "memory: %llu\n", s->memory_bytes);
	seq_printf(m, "heap: %llu\n", s->heap_bytes);
	seq_printf(m, "maps: %u\n", s->maps);
	seq_printf(m, "map_memory: %llu\n", s->map_memory);
	kwasm_show_maps(m, att->prog);
	kwasm_show_events(m, att->prog);
	seq_printf(m, "runs: %llu\n", s->runs);
	seq_printf(m, "accepted: %llu\n", s->accepted);
	seq_printf(m, "dropped: %llu\n", s->dropped);
	seq_printf(m, "invalid: %llu\n", s->invalid);
	seq_printf(m, "traps: %llu\n", s->traps);
	seq_printf(m, "skipped: %llu\n", s->skipped);
	seq_printf(m, "busy: %llu\n", s->busy);
	for (i = 1; i < KWASM_TRAP_COUNT; i++)
		seq_printf(m, "trap.%s: %llu\n", kwasm_core_trap_name(i),
			   s->trap_kind[i]);
	seq_printf(m, "run_time_ns: %llu\n", s->run_time_ns);
	seq_printf(m, "run_count: %llu\n", s->run_count);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * bpfbench: the eBPF side of `make bench` (tests/vm/bench-guest.sh).
 *
 *   bpfbench test-run OBJ.o --proto tcp|udp --src A:P --dst A:P
 *                    [--payload N] [--repeat N]
 *   bpfbench attach OBJ.o
 *
 * test-run loads the first program of OBJ.o (BPF_PROG_TYPE_NETFILTER) and
 * runs it through BPF_PROG_TEST_RUN on the packet `kwasmctl test-run` builds
 * for the same arguments (a TCP SYN or a UDP datagram, from the IPv4 header
 * on, N zero bytes of payload), then prints what kwasmctl prints: verdict,
 * retval, runs and ns/run (the kernel's mean over the repeats).
 *
 * attach loads it and attaches it to NF_INET_LOCAL_IN of NFPROTO_IPV4
 * through a netfilter BPF link, prints "attached: ..." once it is attached
 * and keeps it until SIGTERM or SIGINT, then detaches it, prints
 * "detached: ..." and exits 0: a shell runs it in the background, reads the
 * first line and later kills and waits for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Netfilter refuses INT_MIN (NF_IP_PRI_FIRST) for BPF links: the next one. */
#define BENCH_PRIORITY	(-2147483647)

#define IP_HLEN		20
#define TCP_HLEN	20
#define UDP_HLEN	8
#define MAX_PAYLOAD	(65535 - IP_HLEN - TCP_HLEN)

static const char usage_text[] =
	"usage: bpfbench test-run OBJ.o --proto tcp|udp --src A:P --dst A:P\n"
	"                         [--payload N] [--repeat N]\n"
	"       bpfbench attach OBJ.o\n";

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bpfbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static _Noreturn void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

/* libbpf's warnings (the verifier log among them) but not its debug chatter. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct endpoint {
	struct in_addr addr;
	uint16_t port;
};

static void parse_endpoint(const char *arg, struct endpoint *ep)
{
	char buf[64], *colon, *end;
	unsigned long port;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		die("bad endpoint '%s'", arg);
	colon = strchr(buf, ':');
	if (!colon)
		die("'%s': tcp and udp need ports: give ADDR:PORT", arg);
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		die("bad port in '%s'", arg);
	if (inet_pton(AF_INET, buf, &ep->addr) != 1)
		die("bad IPv4 address '%s'", buf);
	ep->port = port;
}

static unsigned long parse_number(const char *what, const char *arg,
				  unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || !*arg || *end || v > max)
		die("bad %s '%s'", what, arg);
	return v;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The packet of `kwasmctl test-run --proto P --src S --dst D --payload-len N`
 * (wasm/kwasmctl/src/packet.rs, etherparse's PacketBuilder): IPv4 with DF,
 * TTL 64, identification 0; a TCP SYN with sequence number 1 and window
 * 65535, or a UDP datagram; valid checksums; N zero bytes of payload.
 * Returns its length.
 */
static size_t build_packet(uint8_t *pkt, int tcp, const struct endpoint *src,
			   const struct endpoint *dst, size_t payload)
{
	size_t l4_len = (tcp ? TCP_HLEN : UDP_HLEN) + payload;
	size_t len = IP_HLEN + l4_len;
	uint8_t *ip = pkt, *l4 = pkt + IP_HLEN;
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t sum;
	uint16_t check;

	memset(pkt, 0, len);
	ip[0] = 0x45;
	put16(ip + 2, len);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src->addr, 4);
	memcpy(ip + 16, &dst->addr, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));

	put16(l4, src->port);
	put16(l4 + 2, dst->port);
	if (tcp) {
		l4[7] = 1;		/* sequence number */
		l4[12] = 5 << 4;	/* data offset */
		l4[13] = 0x02;		/* SYN */
		put16(l4 + 14, 0xffff);	/* window */
	} else {
		put16(l4 + 4, l4_len);
	}
	/* The pseudo header: addresses, protocol, L4 length. */
	sum = csum_add(0, ip + 12, 8) + proto + l4_len;
	check = csum_fold(csum_add(sum, l4, l4_len));
	if (!tcp && !check)
		check = 0xffff;
	put16(l4 + (tcp ? 16 : 6), check);
	return len;
}

/* Opens and loads OBJ.o; *prog is its first program. */
static struct bpf_object *load(const char *path, struct bpf_program **prog)
{
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		die("cannot open %s: %s", path, strerror(errno));
	*prog = bpf_object__next_program(obj, NULL);
	if (!*prog)
		die("%s has no program", path);
	if (bpf_program__type(*prog) != BPF_PROG_TYPE_NETFILTER)
		die("%s: %s is not a netfilter program", path,
		    bpf_program__name(*prog));
	err = bpf_object__load(obj);
	if (err)
		die("%s: %s", path, strerror(-err));
	return obj;
}

static const char *verdict_name(uint32_t retval)
{
	switch (retval) {
	case NF_DROP:
		return "drop";
	case NF_ACCEPT:
		return "accept";
	default:
		return "other";
	}
}

static int test_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "payload", required_argument, NULL, 'l' },
		{ "payload-len", required_argument, NULL, 'l' },
		{ "repeat", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct endpoint src, dst;
	int tcp = -1, have_src = 0, have_dst = 0, opt, err;
	unsigned long payload = 0, repeat = 1;
	struct bpf_program *prog;
	struct bpf_object *obj;
	uint8_t *pkt;
	size_t len;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!strcmp(optarg, "tcp"))
				tcp = 1;
			else if (!strcmp(optarg, "udp"))
				tcp = 0;
			else
				die("--proto: tcp or udp, not '%s'", optarg);
			break;
		case 's':
			parse_endpoint(optarg, &src);
			have_src = 1;
			break;
		case 'd':
			parse_endpoint(optarg, &dst);
			have_dst = 1;
			break;
		case 'l':
			payload = parse_number("--payload", optarg, MAX_PAYLOAD);
			break;
		case 'r':
			repeat = parse_number("--repeat", optarg, UINT32_MAX);
			if (!repeat)
				die("--repeat must be at least 1");
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || tcp < 0 || !have_src || !have_dst)
		usage();

	pkt = calloc(1, IP_HLEN + TCP_HLEN + payload);
	if (!pkt)
		die("out of memory");
	len = build_packet(pkt, tcp, &src, &dst, payload);
	obj = load(argv[optind], &prog);

	/*
	 * No ctx_in: the kernel runs the program as at NF_INET_LOCAL_OUT of
	 * NFPROTO_IPV4 on data_in as the packet from its IPv4 header on
	 * (bpf_prog_test_run_nf(), net/bpf/test_run.c), which is what kwasm's
	 * test-run passes its program as well. Other hooks would need an
	 * Ethernet header in front.
	 */
	run.data_in = pkt;
	run.data_size_in = len;
	run.repeat = repeat;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
	if (err)
		die("BPF_PROG_TEST_RUN of %s: %s", argv[optind], strerror(-err));

	printf("verdict: %s\n", verdict_name(run.retval));
	printf("retval: %u\n", run.retval);
	printf("runs: %lu\n", repeat);
	printf("ns/run: %u\n", run.duration);
	bpf_object__close(obj);
	free(pkt);
	return 0;
}

static int attach(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_netfilter_opts, nf,
		    .pf = NFPROTO_IPV4,
		    .hooknum = NF_INET_LOCAL_IN,
		    .priority = BENCH_PRIORITY);
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_link *link;
	sigset_t stop;
	int sig;

	if (argc != 2)
		usage();
	/* Blocked before attaching: a SIGTERM from then on is not lost. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stop, NULL))
		die("sigprocmask: %s", strerror(errno));

	obj = load(argv[1], &prog);
	link = bpf_program__attach_netfilter(prog, &nf);
	if (!link)
		die("attaching %s failed: %s", argv[1], strerror(errno));
	printf("attached: %s ipv4 local_in priority %d\n",
	       bpf_program__name(prog), BENCH_PRIORITY);
	fflush(stdout);

	if (sigwait(&stop, &sig))
		die("sigwait failed");
	bpf_link__destroy(link);
	printf("detached: %s\n", bpf_program__name(prog));
	bpf_object__close(obj);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	libbpf_set_print(print_libbpf);
	if (!strcmp(argv[1], "test-run"))
		return test_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return attach(argc - 1, argv + 1);
	usage();
}

/*
 * zmqperf: libzmq's side of brook's two-process performance harness
 * (internal/perfharness), written against libzmq's C API with the same
 * command line as the Go harness, so the driver runs both the same way:
 *
 *   zmqperf thr local|remote ENDPOINT SIZE COUNT
 *   zmqperf lat local|remote ENDPOINT SIZE COUNT
 *   zmqperf conns local|remote ENDPOINT SIZE COUNT   (COUNT connections)
 *
 * thr: local binds a PULL and times COUNT messages from the first to the
 * last arrival; remote connects a PUSH and sends them.
 * lat: local binds a REP and echoes; remote connects a REQ and times each
 * round trip.
 * conns: local binds a ROUTER and echoes; remote connects COUNT DEALERs,
 * each sends one message, and the time until every reply is back is the
 * result (twice: a cold pass, then a warm one).
 * Results are one line "RESULT key=value ...", as the Go harness prints.
 */
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* CPU time (user and system) the process has used so far. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "zmqperf: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

/* Benchmark-only CURVE key pairs, the same as brook's internal/benchcurve. */
#define BENCH_SERVER_PUBLIC "AUW)9wt-7(kPxX@?Zs.wjkGj&hGa]}:ojHt]uYY#"
#define BENCH_SERVER_SECRET "5WMAg=]g0}t{}g]H0sd7UN?GrQ=+tPM7c37uK*GO"
#define BENCH_CLIENT_PUBLIC "n55c^yHI.q>Gud#w4qH*4B7w[p[@-Wb6Ufu^JAD%"
#define BENCH_CLIENT_SECRET "q%]4klq*Y@ql@Od8*YunK)jnsLmB=TB#P5bFm82y"

/* With ZMQPERF_CURVE=1 every socket speaks CURVE: the binding types
 * (PULL, REP, ROUTER) as servers, the others as clients. */
static void curve(void *s, int type)
{
    const char *on = getenv("ZMQPERF_CURVE");
    if (!on || strcmp(on, "1") != 0)
        return;
    int rc;
    if (type == ZMQ_PULL || type == ZMQ_REP || type == ZMQ_ROUTER) {
        int server = 1;
        rc = zmq_setsockopt(s, ZMQ_CURVE_SERVER, &server, sizeof server);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, BENCH_SERVER_SECRET, 40);
    } else {
        rc = zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, BENCH_SERVER_PUBLIC, 40);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, BENCH_CLIENT_PUBLIC, 40);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, BENCH_CLIENT_SECRET, 40);
    }
    if (rc != 0)
        die("CURVE options");
}

static void *sock(void *ctx, int type)
{
    void *s = zmq_socket(ctx, type);
    int linger = 2000;
    if (!s)
        die("zmq_socket");
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    curve(s, type);
    return s;
}

static void thr(void *ctx, int local, const char *ep, size_t size, long count)
{
    zmq_msg_t msg;
    if (local) {
        void *s = sock(ctx, ZMQ_PULL);
        double t0 = 0;
        if (zmq_bind(s, ep) != 0)
            die("zmq_bind");
        printf("LISTENING\n");
        fflush(stdout);
        zmq_msg_init(&msg);
        for (long i = 0; i < count; i++) {
            if (zmq_msg_recv(&msg, s, 0) < 0)
                die("zmq_msg_recv");
            if ((size_t)zmq_msg_size(&msg) != size) {
                fprintf(stderr, "zmqperf: message of %zu bytes\n", zmq_msg_size(&msg));
                exit(1);
            }
            if (i == 0)
                t0 = now();
        }
        double el = now() - t0;
        zmq_msg_close(&msg);
        printf("RESULT msgs/s=%.0f MB/s=%.1f peakRSS_KiB=%ld cpu_us=%.2f\n",
               (count - 1) / el, (count - 1) * (double)size / el / 1e6, peak_rss_kib(), cpu_seconds() / count * 1e6);
        zmq_close(s);
        return;
    }
    void *s = sock(ctx, ZMQ_PUSH);
    if (zmq_connect(s, ep) != 0)
        die("zmq_connect");
    for (long i = 0; i < count; i++) {
        if (zmq_msg_init_size(&msg, size) != 0)
            die("zmq_msg_init_size");
        if (zmq_msg_send(&msg, s, 0) < 0)
            die("zmq_msg_send");
    }
    zmq_close(s);
    printf("RESULT sent=%ld\n", count);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void lat(void *ctx, int local, const char *ep, size_t size, long count)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (local) {
        void *s = sock(ctx, ZMQ_REP);
        if (zmq_bind(s, ep) != 0)
            die("zmq_bind");
        printf("LISTENING\n");
        fflush(stdout);
        for (long i = 0; i < count; i++) {
            if (zmq_msg_recv(&msg, s, 0) < 0)
                die("zmq_msg_recv");
            if (zmq_msg_send(&msg, s, 0) < 0)
                die("zmq_msg_send");
        }
        zmq_close(s);
        printf("RESULT echoed=%ld\n", count);
        return;
    }
    void *s = sock(ctx, ZMQ_REQ);
    char *buf = calloc(1, size);
    double *rtt = malloc(sizeof(double) * count);
    if (zmq_connect(s, ep) != 0)
        die("zmq_connect");
    for (long i = 0; i < count; i++) {
        double t0 = now();
        if (zmq_send(s, buf, size, 0) < 0)
            die("zmq_send");
        if (zmq_msg_recv(&msg, s, 0) < 0)
            die("zmq_msg_recv");
        rtt[i] = now() - t0;
    }
    qsort(rtt, count, sizeof(double), cmp_double);
    printf("RESULT p50_us=%.2f p99_us=%.2f\n", rtt[count / 2] * 1e6, rtt[count * 99 / 100] * 1e6);
    zmq_close(s);
    free(buf);
    free(rtt);
}

/* conns: the local side is a ROUTER echoing to COUNT DEALERs. */
static void conns(void *ctx, int local, const char *ep, size_t size, long count)
{
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    if (local) {
        void *s = sock(ctx, ZMQ_ROUTER);
        int hwm = 0;
        long base = rss_kib(), echoed = 0;
        double warm_cpu = 0;
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
        if (zmq_bind(s, ep) != 0)
            die("zmq_bind");
        printf("LISTENING\n");
        fflush(stdout);
        /* Two passes of one message per DEALER, then a stop message. */
        for (;;) {
            if (zmq_msg_recv(&id, s, 0) < 0 || zmq_msg_recv(&body, s, 0) < 0)
                die("zmq_msg_recv");
            if (zmq_msg_size(&body) == 4 && memcmp(zmq_msg_data(&body), "stop", 4) == 0)
                break;
            if (zmq_msg_send(&id, s, ZMQ_SNDMORE) < 0 || zmq_msg_send(&body, s, 0) < 0)
                die("zmq_msg_send");
            echoed++;
            if (echoed == count) /* the cold round is over */
                warm_cpu = cpu_seconds();
        }
        warm_cpu = cpu_seconds() - warm_cpu;
        printf("RESULT echoed=%ld RSS_KiB_per_conn=%.1f peakRSS_KiB=%ld warm_cpu_s=%.3f\n", echoed,
               (double)(rss_kib() - base) / count, peak_rss_kib(), warm_cpu);
        zmq_close(s);
        return;
    }
    void **d = malloc(sizeof(void *) * count);
    char *buf = calloc(1, size);
    zmq_pollitem_t *items = malloc(sizeof(zmq_pollitem_t) * count);
    double t[2], warm_cpu = 0;
    for (long i = 0; i < count; i++) {
        d[i] = sock(ctx, ZMQ_DEALER);
        if (zmq_connect(d[i], ep) != 0)
            die("zmq_connect");
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            warm_cpu = cpu_seconds();
        double t0 = now();
        long got = 0;
        for (long i = 0; i < count; i++)
            if (zmq_send(d[i], buf, size, 0) < 0)
                die("zmq_send");
        for (long i = 0; i < count; i++) {
            items[i].socket = d[i];
            items[i].events = ZMQ_POLLIN;
        }
        while (got < count) {
            if (zmq_poll(items, count, -1) < 0)
                die("zmq_poll");
            for (long i = 0; i < count; i++) {
                if (!(items[i].revents & ZMQ_POLLIN))
                    continue;
                while (zmq_msg_recv(&body, d[i], ZMQ_DONTWAIT) >= 0)
                    got++;
                items[i].events = 0;
            }
        }
        t[pass] = now() - t0;
    }
    warm_cpu = cpu_seconds() - warm_cpu;
    if (zmq_send(d[0], "stop", 4, 0) < 0)
        die("zmq_send");
    printf("RESULT cold_s=%.3f warm_s=%.3f peerPeakRSS_KiB=%ld warm_cpu_s_peer=%.3f\n", t[0], t[1], peak_rss_kib(), warm_cpu);
    for (long i = 0; i < count; i++)
        zmq_close(d[i]);
    free(d);
    free(buf);
    free(items);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: zmqperf thr|lat|conns local|remote ENDPOINT SIZE COUNT\n");
        return 2;
    }
    int local = strcmp(argv[2], "local") == 0;
    size_t size = strtoul(argv[4], NULL, 10);
    long count = strtol(argv[5], NULL, 10);
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 60000);
    if (strcmp(argv[1], "thr") == 0)
        thr(ctx, local, argv[3], size, count);
    else if (strcmp(argv[1], "lat") == 0)
        lat(ctx, local, argv[3], size, count);
    else if (strcmp(argv[1], "conns") == 0)
        conns(ctx, local, argv[3], size, count);
    else {
        fprintf(stderr, "zmqperf: unknown mode %s\n", argv[1]);
        return 2;
    }
    zmq_ctx_term(ctx);
    /* After the context's end: the I/O thread has sent everything. */
    if (strcmp(argv[1], "thr") == 0 && !local)
        printf("RESULT cpu_us_sender=%.2f\n", cpu_seconds() / count * 1e6);
    return 0;
}

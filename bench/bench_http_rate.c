/*
 * bench_http_rate.c - an open-loop HTTP load generator for latency at a
 * fixed request rate (wrk only measures closed loops at full speed).
 * Each of C connections sends POST requests on a fixed schedule (rate / C
 * per second) over keep-alive; latency is measured from the scheduled send
 * time, so a slow server cannot hide queueing (no coordinated omission).
 *
 *   bench_http_rate PORT BODY_FILE RATE SECONDS [CONNECTIONS] [PATH]
 * prints: rate achieved, p50/p99/max latency in ms, non-200 and errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
  int port;
  const char *req;
  size_t reqlen;
  double interval, t_end, t_start;
  double *lat;
  size_t nlat, caplat;
  unsigned long bad, errors;
} worker;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads one HTTP response (Content-Length framing); returns the status. */
static int read_response(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
    if (k <= 0) return -1;
    n += (size_t)k;
    buf[n] = '\0';
    char *hdr_end = strstr(buf, "\r\n\r\n");
    if (!hdr_end) {
      if (n >= cap - 1) return -1;
      continue;
    }
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
    size_t have = n - (size_t)(hdr_end + 4 - buf);
    while (have < body) {
      char tmp[65536];
      k = recv(fd, tmp, sizeof tmp, 0);
      if (k <= 0) return -1;
      have += (size_t)k;
    }
    return atoi(buf + 9);
  }
}

static void *run(void *arg) {
  worker *w = arg;
  int fd = connect_to(w->port);
  char buf[65536];
  double next = w->t_start;
  while (next < w->t_end) {
    double t = now();
    if (t < next) {
      struct timespec ts = {0, (long)((next - t) * 1e9)};
      nanosleep(&ts, NULL);
    }
    if (fd < 0) fd = connect_to(w->port);
    int status = -1;
    if (fd >= 0 && send(fd, w->req, w->reqlen, MSG_NOSIGNAL) == (ssize_t)w->reqlen)
      status = read_response(fd, buf, sizeof buf);
    double done = now();
    if (status < 0) {
      w->errors++;
      if (fd >= 0) close(fd);
      fd = -1;
    } else if (status != 200) {
      w->bad++;
    }
    if (w->nlat == w->caplat) {
      w->caplat = w->caplat ? w->caplat * 2 : 4096;
      w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
    }
    w->lat[w->nlat++] = done - next;
    next += w->interval;
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s PORT BODY_FILE RATE SECONDS [CONNECTIONS] [PATH]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[3]), secs = atof(argv[4]);
  int conns = argc > 5 ? atoi(argv[5]) : 16;
  const char *path = argc > 6 ? argv[6] : "/v1/score";
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  static char body[1 << 24];
  size_t blen = fread(body, 1, sizeof body, f);
  fclose(f);
  size_t cap = blen + 512;
  char *req = malloc(cap);
  int hl = snprintf(req, cap,
                    "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    path, blen);
  memcpy(req + hl, body, blen);
  worker *w = calloc((size_t)conns, sizeof *w);
  pthread_t *th = calloc((size_t)conns, sizeof *th);
  double t0 = now() + 0.05;
  for (int i = 0; i < conns; i++) {
    w[i] = (worker){.port = port, .req = req, .reqlen = (size_t)hl + blen,
                    .interval = conns / rate, .t_start = t0 + i / rate, .t_end = t0 + secs};
    pthread_create(&th[i], NULL, run, &w[i]);
  }
  size_t total = 0;
  unsigned long bad = 0, errors = 0;
  for (int i = 0; i < conns; i++) {
    pthread_join(th[i], NULL);
    total += w[i].nlat;
    bad += w[i].bad;
    errors += w[i].errors;
  }
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conns; i++) {
    memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all);
    k += w[i].nlat;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, cmp);
  double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)(total * 0.99)] : 0;
  double mx = total ? all[total - 1] : 0;
  printf("rate_target=%.0f rate_achieved=%.0f requests=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
         "non200=%lu errors=%lu\n",
         rate, total / secs, total, p50 * 1e3, p99 * 1e3, mx * 1e3, bad, errors);
  free(all);
  free(w);
  free(th);
  free(req);
  return errors || bad ? 1 : 0;
}

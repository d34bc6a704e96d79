// Standalone reproducer of xfs-fault-punch-tail.txt, for kernel developers:
// no pagerace needed. Build: cc -O2 -pthread -o repro xfs-fault-punch-tail.c
// Run: ./repro FILE_ON_XFS [rounds]
//
// Each round resets the file (punch everything, pwrite 0xAB over pages 0
// and 1, left dirty in the page cache; the mapping's PTEs zapped), then two
// threads start together at a barrier:
//   A: fallocate(PUNCH_HOLE | KEEP_SIZE) of [6144, 8192), the second half
//      of page 1;
//   B: loads [3584, 8192) through a MAP_SHARED mapping (faults pages 0, 1).
// Bytes [4096, 6144) lie outside the hole and always hold 0xAB: a load that
// sees anything else there is the anomaly. After the round the file is read
// with pread to tell a transient view from lost data. Exit 1 if seen.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { kMapBytes = 65536, kHoleStart = 6144, kHoleBytes = 2048, kLoadStart = 3584, kCheckStart = 4096 };

static int fd;
static long rounds = 100000;
static pthread_barrier_t barrier;

static void* Puncher(void* arg) {
  (void)arg;
  for (long r = 0; r < rounds; r++) {
    pthread_barrier_wait(&barrier);
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, kHoleStart, kHoleBytes) != 0) {
      perror("fallocate(PUNCH_HOLE)");
      exit(2);
    }
    pthread_barrier_wait(&barrier);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [rounds]\n", argv[0]);
    return 2;
  }
  if (argc > 2) rounds = atol(argv[2]);
  fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, kMapBytes) != 0) {
    perror(argv[1]);
    return 2;
  }
  char* map = mmap(NULL, kMapBytes, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  char data[8192];
  memset(data, 0xAB, sizeof data);
  pthread_barrier_init(&barrier, NULL, 2);
  pthread_t puncher;
  pthread_create(&puncher, NULL, Puncher, NULL);
  long seen = 0, lost = 0;
  for (long r = 0; r < rounds; r++) {
    madvise(map, kMapBytes, MADV_DONTNEED);
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, kMapBytes);
    if (pwrite(fd, data, sizeof data, 0) != (ssize_t)sizeof data) {
      perror("pwrite");
      return 2;
    }
    pthread_barrier_wait(&barrier);
    unsigned char loaded[kHoleStart + kHoleBytes - kLoadStart];
    for (size_t i = 0; i < sizeof loaded; i++) loaded[i] = ((volatile unsigned char*)map)[kLoadStart + i];
    pthread_barrier_wait(&barrier);
    for (int i = kCheckStart; i < kHoleStart; i++) {
      if (loaded[i - kLoadStart] != 0xAB) {
        if (seen++ < 5) printf("round %ld: a load of byte %d saw 0x%02x\n", r, i, loaded[i - kLoadStart]);
        break;
      }
    }
    unsigned char after[kHoleStart - kCheckStart];
    if (pread(fd, after, sizeof after, kCheckStart) != (ssize_t)sizeof after) {
      perror("pread");
      return 2;
    }
    for (size_t i = 0; i < sizeof after; i++) {
      if (after[i] != 0xAB) {
        if (lost++ < 5) printf("round %ld: pread after the round: byte %zu is 0x%02x\n", r, kCheckStart + i, after[i]);
        break;
      }
    }
  }
  pthread_join(puncher, NULL);
  printf("%ld rounds: %ld loads saw other bytes outside the hole, %ld rounds lost data\n", rounds, seen, lost);
  return seen + lost > 0;
}

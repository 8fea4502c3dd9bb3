/*
 * readahead.c - sequential detection and the readahead window of a mapping.
 * Two consecutive demand misses start a window of RA_INITIAL_BYTES after the
 * second, and a second one, twice as large, after it: the reader has two
 * windows ahead (one under a small cache, see depth()). The marker is the
 * first block still in flight of the nearer one, fetched but held back
 * (parked) so the reader's first touch of it is seen: that touch plans the
 * next window, twice as large again (up to ra_max), and moves the marker
 * on to the window after, so the reader still has the rest of one window
 * and a whole other one to read while the new one's requests wait on the
 * network. (With one window ahead, a 20 ms origin held the reader up at
 * every 64 MiB window.) On a slow origin, a reader that had to wait on the
 * marker gets one four times as large: the ramp to the full window takes
 * half the round trips. A miss anywhere else resets the windows.
 * Other readers of the same mapping (threads on their own parts) would
 * reset it at every turn: a miss that continues one of them (right after
 * its last miss, or at the end of its last window) plans a window for that
 * stream alone, doubling as the main one does, with no marker: the next is
 * planned when the stream's reader waits on a block of its window still in
 * flight with less than a window left ahead of it (a reader faster than the
 * network), else at its next miss, at the window's end: both times the
 * reader outran its window, so on a slow origin it grows four times.
 * Advice (mu_map_advise) changes the mode: SEQUENTIAL plans a full window on
 * every miss and marker (no ramp, no reset), RANDOM plans nothing; WILLNEED
 * queues a range through the same claim path as a window.
 * Runs under the mapping's lock, on the fault reader or a worker; must never
 * do I/O or claim a block that is not absent (region.c enforces it).
 */
#include "map/budget.h"
#include "map/region.h"

/* First window once sequential access is seen: 256 KiB, at least a block. */
#define RA_INITIAL_BYTES ((size_t)256 << 10)

static size_t ra_initial(const struct mu_map *m) {
  size_t n = RA_INITIAL_BYTES / m->block;
  return n ? n : 1;
}

/* Pieces of a window of win blocks, as planned (cut by the object's end,
 * the budget or another reader's part): MU_MAP_RA_PIECES of them, over as
 * many connections, but none under a first window's size (256 KiB): an
 * 8 MiB object read under SEQUENTIAL advice took 2 GETs of 4 MiB, one
 * connection each, and a first window 16 GETs of one 16 KiB block. */
static size_t chunk_for(const struct mu_map *m, size_t win) {
  size_t chunk = (win + MU_MAP_RA_PIECES - 1) / MU_MAP_RA_PIECES;
  return chunk > ra_initial(m) ? chunk : ra_initial(m);
}

static size_t first_absent(const struct mu_map *m, size_t from, size_t to) {
  for (size_t b = from; b < to; b++)
    if ((m->state[b] & MU_BLK_STATE) == MU_BLK_ABSENT)
      return b;
  return MU_NONE;
}

/* Queue the window [start, start+win); windows already fully fetched are
 * skipped so the marker is always a block this plan fetches. The window is
 * cut to the room left below the budgets' maxima (in flight included), so
 * readahead never takes a budget past its maximum while its evictor lags;
 * with no room, no window: the next miss plans again. */
/* Whether block b is absent but was installed before (then evicted). */
static int seen_absent(const struct mu_map *m, size_t b) {
  return (m->state[b] & MU_BLK_SEEN) && (m->state[b] & MU_BLK_STATE) == MU_BLK_ABSENT;
}

/* Whether [b, end) begins with a run of absent blocks installed before
 * that is at least a first window long (or reaches end): another reader's
 * part, read already. A few such blocks alone (an index, a footer read
 * first) are not one. */
static int seen_run(const struct mu_map *m, size_t b, size_t end) {
  size_t stop = end - b < ra_initial(m) ? end : b + ra_initial(m);
  for (size_t i = b; i < stop; i++)
    if (!seen_absent(m, i))
      return 0;
  return 1;
}

/* The end of a window [from, end) of a stream whose last window was
 * *fresh (began on blocks never installed before). Threads on disjoint
 * parts of a mapping: a reader's window must not run on into the next
 * reader's part, already read and evicted (fetched twice, for nobody). So
 * a fresh window stops where such a part begins (seen_run), and after a
 * fresh window none starts on one. A window that starts on such blocks
 * after one that did too, or after its reader missed one (a second pass
 * over the object), runs on. Sets *fresh for the window returned. */
static size_t clip(const struct mu_map *m, size_t from, size_t end, int *fresh) {
  if (from >= end)
    return end;
  if (!(m->state[from] & MU_BLK_SEEN)) {
    *fresh = 1;
    for (size_t b = from; b < end; b++)
      if (seen_absent(m, b) && seen_run(m, b, end))
        return b;
    return end;
  }
  if (*fresh && seen_run(m, from, end))
    return from;
  *fresh = 0;
  return end;
}

/* The first block of the window queued, or MU_NONE if none was (no room,
 * the object's end, another reader's part). */
static size_t plan(struct mu_map *m, size_t start, size_t win) {
  size_t room = mu_budget_room(&m->own, 4) / m->block;
  win = win < room ? win : room;
  while (win > 0 && start < m->nblocks) {
    size_t full = win < m->nblocks - start ? start + win : m->nblocks;
    size_t end = clip(m, start, full, &m->ra_fresh);
    size_t first = first_absent(m, start, end);
    m->ra_win = win;
    m->ra_next = end;
    if (first != MU_NONE) {
      mu_region_queue_range(m, first, end, chunk_for(m, end - first));
      return start;
    }
    if (end < full)
      return MU_NONE; /* another reader's part, read already */
    start = end;
  }
  return MU_NONE;
}

/* The full window: ra_max, and at most a sixth of the smaller of the
 * process-wide and the mapping's own budget. Three windows (the one being
 * read, the next in flight, one planned early) then fit below the budget's
 * low watermark (5/8) with the blocks already read: those are older, so
 * the evictor takes them first, not blocks still to be read (1 GiB under
 * 16M-256M caches fetched no byte twice). At a quarter, 1 GiB under a
 * 64 MiB cache fetched 0.2 % twice; at an eighth, windows were so small
 * that the stream ran at half speed. */
static size_t full_window(const struct mu_map *m) {
  size_t max = mu_budget_limit(&m->own);
  size_t limit = m->ra_max, budget = max / 6 / m->block;
  if (max && budget < limit)
    limit = budget ? budget : 1;
  return limit;
}

/* A slow origin: its fastest first bytes since the mapping opened took
 * this long (the fastest, so a fetch held up on a busy machine does not
 * make a fast origin look slow). On loopback they take tens of
 * microseconds; on a 20 ms origin the ramp from 256 KiB to 64 MiB took
 * 8 round trips doubling, and the reader outran every window of it. */
#define RA_SLOW_NS 1000000

static int slow_origin(const struct mu_map *m) { return m->ttfb_min_ns >= RA_SLOW_NS; }

/* The window after one of `win` blocks (0: none yet): double (`slow`:
 * quadruple) up to the full one; SEQUENTIAL: the full one. */
static size_t grow(const struct mu_map *m, size_t win, int slow) {
  size_t limit = full_window(m);
  if (m->ra_mode == MU_MAP_SEQUENTIAL)
    return limit;
  win = win ? win * (slow ? 4 : 2) : ra_initial(m);
  return win < limit ? win : limit;
}

/* Windows to keep ahead of the main reader: MU_RA_AHEAD while that many
 * full windows and the one being read take at most 3/8 of the smaller
 * budget (with the default 1 GiB cache, 64 MiB windows); else one. The
 * evictor takes the blocks already read first only while the unread ones
 * stay well below its low watermark (5/8): at a sixth of a 16M-128M cache,
 * two windows ahead fetched 0.7-7 % of the bytes twice. */
static unsigned depth(const struct mu_map *m) {
  size_t max = mu_budget_limit(&m->own);
  return max == 0 || full_window(m) * m->block * 8 <= max ? MU_RA_AHEAD : 1;
}

/* The marker: the first block from `from` on still in flight in the
 * windows ahead, or MU_NONE. */
static void pick_marker(struct mu_map *m, size_t from) {
  m->ra_marker = MU_NONE;
  for (unsigned i = 0; i < m->ra_nahead; i++) {
    size_t end = i + 1 < m->ra_nahead ? m->ra_ahead[i + 1] : m->ra_next;
    for (size_t k = m->ra_ahead[i] > from ? m->ra_ahead[i] : from; k < end; k++) {
      if ((m->state[k] & MU_BLK_STATE) == MU_BLK_INFLIGHT) {
        m->ra_marker = k;
        return;
      }
    }
  }
}

/* The main reader is at block b: forget the windows it has entered, plan
 * windows from ra_next until MU_RA_AHEAD are ahead of it (or no more can
 * be; the first of them grown by `slow`), and put the marker on the first
 * block still in flight of the nearest. If every window ahead has landed
 * (the network is ahead of the reader), that is in the window just
 * planned. */
static void advance(struct mu_map *m, size_t b, int slow) {
  unsigned entered = 0;
  while (entered < m->ra_nahead && m->ra_ahead[entered] <= b)
    entered++;
  m->ra_nahead -= entered;
  for (unsigned i = 0; i < m->ra_nahead; i++)
    m->ra_ahead[i] = m->ra_ahead[i + entered];
  while (m->ra_nahead < depth(m)) {
    size_t start = plan(m, m->ra_next, grow(m, m->ra_win, slow));
    if (start == MU_NONE)
      break;
    m->ra_ahead[m->ra_nahead++] = start;
    slow = 0;
  }
  pick_marker(m, b + 1);
}

void mu_ra_init(struct mu_map *m) {
  m->ra_nahead = 0;
  m->ra_last = m->ra_marker = m->ra_waited = MU_NONE;
  for (size_t i = 0; i < MU_RA_STREAMS; i++)
    m->ra_streams[i].last = MU_NONE;
}

/* The other stream that b continues, or NULL. */
static struct mu_ra_stream *stream_of(struct mu_map *m, size_t b) {
  for (size_t i = 0; i < MU_RA_STREAMS; i++) {
    struct mu_ra_stream *s = &m->ra_streams[i];
    if (s->last != MU_NONE && b > s->last && b <= s->next)
      return s;
  }
  return NULL;
}

/* Plan stream s's next window from block `from` (its reader outran the
 * last one): doubling as the main one does, quadrupling on a slow origin
 * (SEQUENTIAL: the full window), cut to the budgets' room. */
static void stream_plan(struct mu_map *m, struct mu_ra_stream *s, size_t from) {
  size_t win = grow(m, s->win, slow_origin(m)), room = mu_budget_room(&m->own, 4) / m->block;
  if (win > room)
    win = room;
  size_t end = clip(m, from, win < m->nblocks - from ? from + win : m->nblocks, &s->fresh);
  s->next = end;
  s->win = win;
  if (end > from)
    mu_region_queue_range(m, from, end, chunk_for(m, end - from));
}

/* A miss at b that the main stream does not explain. */
static void other_stream(struct mu_map *m, size_t b) {
  struct mu_ra_stream *s = stream_of(m, b);
  if (!s) { /* a new reader, maybe: remember where it is */
    s = &m->ra_streams[m->ra_stream_pos++ % MU_RA_STREAMS];
    *s = (struct mu_ra_stream){.last = b, .next = b + 1, .win = 0, .fresh = 0};
    return;
  }
  s->last = b;
  if (m->state[b] & MU_BLK_SEEN)
    s->fresh = 0; /* its reader reads again what it read before */
  stream_plan(m, s, b + 1);
}

/* Whether this mapping reads ahead at all (opts and advice). */
static int enabled(const struct mu_map *m) { return m->ra_max != 0 && m->ra_mode != MU_MAP_RANDOM; }

void mu_ra_on_miss(struct mu_map *m, size_t b) {
  if (!enabled(m))
    return;
  int sequential = m->ra_last != MU_NONE && b == m->ra_last + 1;
  m->ra_last = b;
  m->ra_nahead = 0; /* whatever was ahead, the reader is past it */
  m->ra_waited = MU_NONE;
  if (m->state[b] & MU_BLK_SEEN)
    m->ra_fresh = 0; /* the reader reads again what it read before */
  if (!sequential && m->ra_mode != MU_MAP_SEQUENTIAL) {
    m->ra_win = 0; /* a jump: back to fetching single blocks */
    m->ra_fresh = 0;
    m->ra_marker = MU_NONE;
    other_stream(m, b);
    return;
  }
  m->ra_next = b + 1;
  advance(m, b, 0);
}

void mu_ra_on_inflight(struct mu_map *m, size_t b) {
  if (!enabled(m))
    return;
  if (b == m->ra_marker)
    m->ra_waited = b;
  for (size_t i = 0; i < MU_RA_STREAMS; i++) {
    struct mu_ra_stream *s = &m->ra_streams[i];
    if (s->last != MU_NONE && s->win > 0 && b > s->last && b < s->next &&
        s->next - b <= s->win && s->next < m->nblocks) {
      s->last = b;
      stream_plan(m, s, s->next);
      return;
    }
  }
}

void mu_ra_on_marker(struct mu_map *m, size_t b) {
  if (!enabled(m) || b != m->ra_marker)
    return;
  int slow = m->ra_waited == b && slow_origin(m);
  m->ra_waited = MU_NONE;
  m->ra_last = b;
  advance(m, b, slow);
}

void mu_ra_on_landed(struct mu_map *m, size_t b) {
  if (b == m->ra_marker)
    pick_marker(m, b + 1);
}

/* Under lock. RANDOM forgets the window and installs a held-back marker
 * (nothing will plan from it); blocks already queued still land. */
void mu_ra_set_mode(struct mu_map *m, int mode) {
  m->ra_mode = mode;
  m->ra_fresh = 0;
  if (mode != MU_MAP_RANDOM)
    return;
  m->ra_win = 0;
  mu_ra_init(m);
  mu_region_unpark(m, 0);
}

/* Blocks WILLNEED may claim now: any number without a budget; with one
 * (process-wide or the mapping's own), what fits below its eviction
 * watermark (3/4 of max), so advice never eats the quarter kept for the
 * readahead windows in flight. */
static size_t willneed_room(const struct mu_map *m) {
  size_t room = mu_budget_room(&m->own, 3);
  return room == SIZE_MAX ? SIZE_MAX : room / m->block;
}

/* Under lock: the same claim path as a window (never a block twice), in
 * pieces sized as a full window's so the workers share a large range. */
void mu_ra_willneed(struct mu_map *m, size_t from, size_t to) {
  size_t room = willneed_room(m), end = from;
  for (; end < to && room > 0; end++)
    if ((m->state[end] & MU_BLK_STATE) == MU_BLK_ABSENT)
      room--;
  size_t win = full_window(m);
  if (win == 0 || win > end - from)
    win = end - from;
  mu_region_queue_range(m, from, end, chunk_for(m, win));
}

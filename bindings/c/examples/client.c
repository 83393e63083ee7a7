/* A client of the ASP SDK in C: connects, receives frames, sends input, prints stats.
 *
 *   client HOST:PORT FINGERPRINT TOKEN   connect to a running server (`asp serve` prints these)
 *   client                               start a server in this process first (synthetic
 *                                        office scene; ASP_TEST_* variables set its size and seed)
 *
 * Prints one line per second of figures, then `first_frame id=... checksum=...` (FNV-1a 64
 * over the visible Y, U, V samples, which the test suite compares with what a Rust client saw
 * of the same frame) and the final figures. Exit status 0 when frames arrived and the server
 * applied the input. */

#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asp.h"

struct first_frame {
    atomic_int seen;
    uint64_t id;
    uint32_t width, height;
    uint64_t checksum;
    /* The pointer, drawn by the client itself: updates seen, shapes received, where it is. */
    atomic_int cursor_updates, cursor_shapes;
    atomic_int cursor_x, cursor_y;
    uint32_t shape_width, shape_height;
    /* The server's audio: 20 ms frames played, and the loudest sample heard. */
    atomic_int audio_frames, audio_peak;
};

static uint64_t fnv1a(uint64_t hash, const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/* Runs on the SDK's decode thread: copy what is needed and return. */
static void on_frame(void *user_data, const AspFrame *frame) {
    struct first_frame *first = user_data;
    if (atomic_load(&first->seen)) return;
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (int p = 0; p < 3; p++)
        for (uint32_t row = 0; row < frame->plane_heights[p]; row++)
            hash = fnv1a(hash, frame->planes[p] + (size_t)row * frame->strides[p], frame->plane_widths[p]);
    first->id = frame->frame_id;
    first->width = frame->width;
    first->height = frame->height;
    first->checksum = hash;
    atomic_store(&first->seen, 1);
}

/* Runs on an SDK thread for every move, appearance or change of shape of the server's pointer. */
static void on_cursor(void *user_data, const AspCursor *cursor) {
    struct first_frame *first = user_data;
    if (cursor->rgba) { /* a new shape: width * height * 4 bytes of RGBA, to copy if kept */
        first->shape_width = cursor->width;
        first->shape_height = cursor->height;
        atomic_fetch_add(&first->cursor_shapes, 1);
    }
    atomic_store(&first->cursor_x, cursor->x);
    atomic_store(&first->cursor_y, cursor->y);
    atomic_fetch_add(&first->cursor_updates, 1);
}

/* Runs on the client's playback thread every 20 ms: hand the samples to the audio device. */
static void on_audio(void *user_data, const AspAudioFrame *audio) {
    struct first_frame *first = user_data;
    int peak = 0;
    for (size_t i = 0; i < audio->frames * audio->channels; i++) {
        int v = audio->samples[i] < 0 ? -audio->samples[i] : audio->samples[i];
        if (v > peak) peak = v;
    }
    if (peak > atomic_load(&first->audio_peak)) atomic_store(&first->audio_peak, peak);
    atomic_fetch_add(&first->audio_frames, 1);
}

static void on_event(void *user_data, const AspEvent *event) {
    (void)user_data;
    if (event->kind == ASP_EVENT_KIND_CONNECTED)
        printf("event: connected over %s\n", event->carrier == ASP_CARRIER_TCP ? "tcp" : "quic");
    else if (event->kind == ASP_EVENT_KIND_STALL)
        printf("event: stall (%" PRIu64 " so far)\n", event->stalls);
    else
        printf("event: ended\n");
    fflush(stdout);
}

static int check(AspStatus status, const char *what) {
    if (status != ASP_STATUS_OK) {
        fprintf(stderr, "%s failed (status %d): %s\n", what, (int)status, asp_last_error());
        return 0;
    }
    return 1;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static uint32_t env_u32(const char *name, uint32_t fallback) {
    const char *v = getenv(name);
    return v ? (uint32_t)strtoul(v, NULL, 10) : fallback;
}

static void print_stats(const AspClientStats *s) {
    printf("frames %" PRIu64 " shown, %" PRIu64 " late, %" PRIu64 " dropped | %.0f kbit/s | rtt %.1f ms | "
           "glass-to-glass p50 %.1f ms p95 %.1f ms | click-to-photon p50 %.1f ms (%" PRIu64 ")\n",
           s->frames_shown, s->frames_late, s->frames_dropped, s->receive_kbps, s->rtt_ms, s->glass_to_glass.p50,
           s->glass_to_glass.p95, s->click_to_photon.p50, s->click_to_photon.count);
    fflush(stdout);
}

int main(int argc, char **argv) {
    AspServer *server = NULL;
    char *fingerprint = NULL, *token = NULL;
    char address[64];
    AspClientConfig config;
    check(asp_client_config_default(&config), "asp_client_config_default");

    if (argc == 4) {
        config.address = argv[1];
        config.fingerprint = argv[2];
        config.token = argv[3];
    } else if (argc == 1) {
        AspServerConfig sc;
        check(asp_server_config_default(&sc), "asp_server_config_default");
        sc.width = env_u32("ASP_TEST_WIDTH", 640);
        sc.height = env_u32("ASP_TEST_HEIGHT", 360);
        sc.fps = 30;
        sc.audio = "tone:1000"; /* the desktop's audio: a 1 kHz tone */
        if (getenv("ASP_TEST_SEED")) {
            sc.has_seed = true;
            sc.seed = env_u32("ASP_TEST_SEED", 0);
        }
        if (!check(asp_server_start(&sc, &server), "asp_server_start")) return 1;
        if (!check(asp_server_fingerprint(server, &fingerprint), "asp_server_fingerprint")) return 1;
        if (!check(asp_server_issue_token(server, "c-example", 3600, &token), "asp_server_issue_token")) return 1;
        snprintf(address, sizeof address, "127.0.0.1:%u", (unsigned)asp_server_port(server));
        printf("server: %s fingerprint %s\n", address, fingerprint);
        config.address = address;
        config.fingerprint = fingerprint;
        config.token = token;
    } else {
        fprintf(stderr, "usage: %s [HOST:PORT FINGERPRINT TOKEN]\n", argv[0]);
        return 2;
    }

    struct first_frame first = {0};
    AspClientCallbacks callbacks = {.user_data = &first,
                                    .on_frame = on_frame,
                                    .on_event = on_event,
                                    .on_cursor = on_cursor,
                                    .on_audio = on_audio};
    AspClient *client = NULL;
    if (!check(asp_client_connect(&config, &callbacks, &client), "asp_client_connect")) return 1;

    /* Receive for up to 10 s: until the first frame, then one second more. */
    AspClientStats stats;
    for (int i = 0; i < 100 && !atomic_load(&first.seen); i++) sleep_ms(100);
    sleep_ms(1000);
    check(asp_client_stats(client, &stats), "asp_client_stats");
    print_stats(&stats);

    /* Type "a", move the pointer and click: the synthetic scene draws a marker for each. */
    uint64_t seq = 0;
    int ok = check(asp_client_send_key(client, 0x61, true, &seq), "send_key") &&
             check(asp_client_send_key(client, 0x61, false, &seq), "send_key") &&
             check(asp_client_send_pointer(client, 100, 80, &seq), "send_pointer") &&
             check(asp_client_send_button(client, 1, true, &seq), "send_button") &&
             check(asp_client_send_button(client, 1, false, &seq), "send_button");
    /* Copy a line of text to the server's clipboard. */
    const char *copied = "copied on the thin client";
    ok = ok && check(asp_client_copy(client, "text/plain;charset=utf-8", (const uint8_t *)copied, strlen(copied)),
                     "asp_client_copy");
    /* A bad button is refused with a message, not sent. */
    if (asp_client_send_button(client, 9, true, NULL) != ASP_STATUS_INVALID_ARGUMENT) ok = 0;
    printf("bad button refused: %s\n", asp_last_error());
    printf("inputs sent, last seq %" PRIu64 "\n", seq);
    sleep_ms(1000);
    printf("cursor: %d updates, %d shape(s) of %ux%u, now at (%d, %d)\n", atomic_load(&first.cursor_updates),
           atomic_load(&first.cursor_shapes), first.shape_width, first.shape_height, atomic_load(&first.cursor_x),
           atomic_load(&first.cursor_y));
    /* The pointer follows the move to (100, 80) apart from the picture. */
    if (server && (atomic_load(&first.cursor_x) != 100 || atomic_load(&first.cursor_y) != 80)) ok = 0;

    printf("audio: %d frames played, peak %d\n", atomic_load(&first.audio_frames), atomic_load(&first.audio_peak));
    uint64_t applied = 0, clipboard = 0;
    if (server) {
        char *json = NULL;
        if (check(asp_server_stats_json(server, &json), "asp_server_stats_json")) {
            const char *field = strstr(json, "\"input_events\":");
            if (field) applied = strtoull(field + strlen("\"input_events\":"), NULL, 10);
            field = strstr(json, "\"clipboard_received\":");
            if (field) clipboard = strtoull(field + strlen("\"clipboard_received\":"), NULL, 10);
            printf("server stats: %s\n", json);
            asp_string_free(json);
        }
    }

    check(asp_client_stop(client, &stats), "asp_client_stop");
    print_stats(&stats);
    char *json = NULL;
    if (check(asp_client_stats_json(client, &json), "asp_client_stats_json")) {
        printf("client stats: %s\n", json);
        asp_string_free(json);
    }
    check(asp_client_free(client), "asp_client_free");
    if (server) {
        printf("input events applied by the server: %" PRIu64 "\n", applied);
        printf("clipboard copies the server took: %" PRIu64 "\n", clipboard);
        if (applied < 5 || clipboard != 1) ok = 0;
        /* A second of a 1 kHz tone at a quarter of full scale: about 50 frames, loud. */
        if (atomic_load(&first.audio_frames) < 25 || atomic_load(&first.audio_peak) < 4000) ok = 0;
        check(asp_server_free(server), "asp_server_free");
    }
    asp_string_free(fingerprint);
    asp_string_free(token);

    if (!atomic_load(&first.seen)) {
        fprintf(stderr, "no frame arrived\n");
        return 1;
    }
    printf("first_frame id=%" PRIu64 " width=%u height=%u checksum=%016" PRIx64 "\n", first.id, first.width,
           first.height, first.checksum);
    return ok ? 0 : 1;
}

/* A usbredir peer built on the real libusbredirparser, for asp's interop test
 * (asp/tests/usbredir_interop.rs).
 *
 * Usage: peer host|guest CAPS_HEX
 *
 * Speaks usbredir on stdin/stdout as the usb-host (the device side) or the usb-guest, with
 * the capabilities given (libusbredirparser adds device_disconnect_ack to a guest's). Every
 * packet the library parses is reported as one line on stderr, every field printed, so that
 * the test can compare them with what it sent. As a host it answers the guest's requests the
 * way the test's script says; as a guest it sends the script's requests once the device is
 * announced. The two scripts are mirrored in the Rust test: change one, change both.
 *
 * Payloads print as hex up to 32 bytes, as "LEN#FNV1A32" above, "-" when there is none.
 * Waits are bounded: 10 s without input ends the program with status 3. */

#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <usbredirfilter.h>
#include <usbredirparser.h>

static struct usbredirparser *parser;
static int is_host;
static int at_eof;

/* The bulk IN transfer on endpoint 0x82 the host keeps pending until it is cancelled. */
static int held;
static uint64_t held_id;

static void report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static int negotiated(int cap)
{
    return usbredirparser_have_cap(parser, cap) && usbredirparser_peer_has_cap(parser, cap);
}

static uint32_t caps_word(int peer)
{
    uint32_t word = 0;
    int cap;

    for (cap = 0; cap < 32; cap++) {
        int has = peer ? usbredirparser_peer_has_cap(parser, cap)
                       : negotiated(cap);
        if (has)
            word |= 1u << cap;
    }
    return word;
}

/* The test's ids: large when both sides have 64-bit ids, so that the upper half is used. */
static uint64_t id_of(uint64_t n)
{
    if (n == 0)
        return 0;
    return (negotiated(usb_redir_cap_64bits_ids) ? (UINT64_C(1) << 40) : 0) + n;
}

static uint8_t *pattern(int len, uint8_t seed)
{
    uint8_t *data = malloc(len > 0 ? len : 1);
    int i;

    if (!data) {
        report("out of memory");
        exit(4);
    }
    for (i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 31 + seed);
    return data;
}

static const char *payload(const uint8_t *data, int len)
{
    static char text[80];
    uint32_t hash = 2166136261u;
    int i;

    if (!data || len == 0)
        return "-";
    if (len <= 32) {
        for (i = 0; i < len; i++)
            sprintf(text + 2 * i, "%02x", data[i]);
        return text;
    }
    for (i = 0; i < len; i++) {
        hash ^= data[i];
        hash *= 16777619u;
    }
    snprintf(text, sizeof(text), "%d#%08x", len, hash);
    return text;
}

/* ---- What the host announces ---- */

struct endpoint {
    uint8_t address, type, interval, interface;
    uint16_t max_packet_size;
    uint32_t max_streams;
};

static const struct endpoint endpoints[] = {
    { 0x00, usb_redir_type_control, 0, 0, 64, 0 },
    { 0x80, usb_redir_type_control, 0, 0, 64, 0 },
    { 0x02, usb_redir_type_bulk, 0, 0, 512, 16 },
    { 0x81, usb_redir_type_bulk, 0, 0, 512, 16 },
    { 0x82, usb_redir_type_bulk, 0, 0, 512, 0 },
    { 0x83, usb_redir_type_interrupt, 4, 1, 8, 0 },
    { 0x04, usb_redir_type_interrupt, 4, 1, 8, 0 },
    { 0x85, usb_redir_type_iso, 1, 2, 192, 0 },
    { 0x06, usb_redir_type_iso, 1, 2, 192, 0 },
    { 0x87, usb_redir_type_bulk, 0, 0, 64, 0 },
};

static int slot(uint8_t address)
{
    return (address & 0x0f) + ((address & 0x80) ? 16 : 0);
}

static void announce(void)
{
    struct usb_redir_ep_info_header ep_info;
    struct usb_redir_interface_info_header interface_info;
    struct usb_redir_device_connect_header connect;
    size_t i;

    memset(&ep_info, 0, sizeof(ep_info));
    memset(ep_info.type, usb_redir_type_invalid, sizeof(ep_info.type));
    for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        int s = slot(endpoints[i].address);
        ep_info.type[s] = endpoints[i].type;
        ep_info.interval[s] = endpoints[i].interval;
        ep_info.interface[s] = endpoints[i].interface;
        ep_info.max_packet_size[s] = endpoints[i].max_packet_size;
        ep_info.max_streams[s] = endpoints[i].max_streams;
    }
    usbredirparser_send_ep_info(parser, &ep_info);

    memset(&interface_info, 0, sizeof(interface_info));
    interface_info.interface_count = 3;
    interface_info.interface[0] = 0;
    interface_info.interface_class[0] = 0x08;
    interface_info.interface_subclass[0] = 0x06;
    interface_info.interface_protocol[0] = 0x50;
    interface_info.interface[1] = 1;
    interface_info.interface_class[1] = 0x03;
    interface_info.interface[2] = 2;
    interface_info.interface_class[2] = 0x01;
    interface_info.interface_subclass[2] = 0x02;
    usbredirparser_send_interface_info(parser, &interface_info);

    memset(&connect, 0, sizeof(connect));
    connect.speed = usb_redir_speed_high;
    connect.vendor_id = 0x1234;
    connect.product_id = 0x5678;
    connect.device_version_bcd = 0x0110;
    usbredirparser_send_device_connect(parser, &connect);
}

/* ---- What the guest asks ---- */

static const struct usbredirfilter_rule filter_rules[] = {
    { 0x03, -1, -1, -1, 0 },
    { -1, -1, -1, -1, 1 },
};

static void send_requests(void)
{
    struct usb_redir_set_configuration_header set_config = { 1 };
    struct usb_redir_set_alt_setting_header set_alt = { 1, 2 };
    struct usb_redir_get_alt_setting_header get_alt = { 1 };
    struct usb_redir_control_packet_header control;
    struct usb_redir_bulk_packet_header bulk;
    struct usb_redir_interrupt_packet_header interrupt;
    struct usb_redir_iso_packet_header iso;
    struct usb_redir_start_interrupt_receiving_header start_int = { 0x83 };
    struct usb_redir_stop_interrupt_receiving_header stop_int = { 0x83 };
    struct usb_redir_start_iso_stream_header start_iso = { 0x85, 4, 2 };
    struct usb_redir_stop_iso_stream_header stop_iso = { 0x85 };
    struct usb_redir_alloc_bulk_streams_header alloc_streams = { 0x00020004, 16 };
    struct usb_redir_free_bulk_streams_header free_streams = { 0x00020004 };
    struct usb_redir_start_bulk_receiving_header start_bulk = { 0, 4096, 0x87, 3 };
    struct usb_redir_stop_bulk_receiving_header stop_bulk = { 0, 0x87 };
    uint32_t bulk_in_len = negotiated(usb_redir_cap_32bits_bulk_length) ? 100000 : 1000;
    uint8_t *data;

    usbredirparser_send_set_configuration(parser, id_of(1), &set_config);
    usbredirparser_send_get_configuration(parser, id_of(2));
    usbredirparser_send_set_alt_setting(parser, id_of(3), &set_alt);
    usbredirparser_send_get_alt_setting(parser, id_of(4), &get_alt);

    memset(&control, 0, sizeof(control));
    control.endpoint = 0x80;
    control.request = 6;
    control.requesttype = 0x80;
    control.value = 0x0100;
    control.length = 18;
    usbredirparser_send_control_packet(parser, id_of(5), &control, NULL, 0);

    memset(&control, 0, sizeof(control));
    control.endpoint = 0x00;
    control.request = 0x09;
    control.requesttype = 0x21;
    control.value = 0x0200;
    control.length = 4;
    data = pattern(4, 11);
    usbredirparser_send_control_packet(parser, id_of(6), &control, data, 4);
    free(data);

    memset(&bulk, 0, sizeof(bulk));
    bulk.endpoint = 0x02;
    bulk.length = 300;
    data = pattern(300, 1);
    usbredirparser_send_bulk_packet(parser, id_of(7), &bulk, data, 300);
    free(data);

    memset(&bulk, 0, sizeof(bulk));
    bulk.endpoint = 0x81;
    bulk.length = bulk_in_len & 0xffff;
    bulk.length_high = bulk_in_len >> 16;
    usbredirparser_send_bulk_packet(parser, id_of(8), &bulk, NULL, 0);

    usbredirparser_send_start_interrupt_receiving(parser, id_of(9), &start_int);

    memset(&interrupt, 0, sizeof(interrupt));
    interrupt.endpoint = 0x04;
    interrupt.length = 8;
    data = pattern(8, 4);
    usbredirparser_send_interrupt_packet(parser, id_of(10), &interrupt, data, 8);
    free(data);

    usbredirparser_send_start_iso_stream(parser, id_of(11), &start_iso);

    memset(&iso, 0, sizeof(iso));
    iso.endpoint = 0x06;
    iso.length = 192;
    data = pattern(192, 9);
    usbredirparser_send_iso_packet(parser, id_of(12), &iso, data, 192);
    free(data);

    usbredirparser_send_alloc_bulk_streams(parser, id_of(13), &alloc_streams);
    usbredirparser_send_free_bulk_streams(parser, id_of(14), &free_streams);
    if (negotiated(usb_redir_cap_bulk_receiving)) {
        usbredirparser_send_start_bulk_receiving(parser, id_of(15), &start_bulk);
        usbredirparser_send_stop_bulk_receiving(parser, id_of(16), &stop_bulk);
    }
    usbredirparser_send_stop_interrupt_receiving(parser, id_of(17), &stop_int);
    usbredirparser_send_stop_iso_stream(parser, id_of(18), &stop_iso);

    memset(&bulk, 0, sizeof(bulk));
    bulk.endpoint = 0x82;
    bulk.length = 64;
    usbredirparser_send_bulk_packet(parser, id_of(19), &bulk, NULL, 0);
    usbredirparser_send_cancel_data_packet(parser, id_of(19));

    if (negotiated(usb_redir_cap_filter)) {
        usbredirparser_send_filter_filter(parser, filter_rules, 2);
        usbredirparser_send_filter_reject(parser);
    }
    usbredirparser_send_reset(parser);
}

/* ---- Callbacks: report, and as a host answer ---- */

static void on_log(void *priv, int level, const char *msg)
{
    (void)priv;
    if (level <= usbredirparser_warning)
        report("log %d %s", level, msg);
}

static int on_read(void *priv, uint8_t *data, int count)
{
    struct pollfd pfd = { 0, POLLIN, 0 };
    ssize_t n;

    (void)priv;
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    n = read(0, data, count);
    if (n == 0) {
        at_eof = 1;
        return -1;
    }
    return n < 0 ? -1 : (int)n;
}

static int on_write(void *priv, uint8_t *data, int count)
{
    ssize_t n;

    (void)priv;
    n = write(1, data, count);
    return n < 0 ? -1 : (int)n;
}

static void on_hello(void *priv, struct usb_redir_hello_header *hello)
{
    (void)priv;
    report("hello version=%s caps=%08x negotiated=%08x", hello->version, caps_word(1), caps_word(0));
    if (is_host)
        announce();
}

static void on_device_connect(void *priv, struct usb_redir_device_connect_header *c)
{
    char version[8] = "-";

    (void)priv;
    if (negotiated(usb_redir_cap_connect_device_version))
        snprintf(version, sizeof(version), "%04x", c->device_version_bcd);
    report("device_connect speed=%u class=%02x subclass=%02x protocol=%02x vendor=%04x product=%04x version=%s",
           c->speed, c->device_class, c->device_subclass, c->device_protocol, c->vendor_id, c->product_id,
           version);
    if (!is_host)
        send_requests();
}

static void on_device_disconnect(void *priv)
{
    (void)priv;
    report("device_disconnect");
}

static void on_reset(void *priv)
{
    (void)priv;
    report("reset");
    /* The script's end: the device does not come back after the reset. */
    usbredirparser_send_device_disconnect(parser);
}

static void on_interface_info(void *priv, struct usb_redir_interface_info_header *info)
{
    char line[512];
    int len, i;

    (void)priv;
    len = snprintf(line, sizeof(line), "interface_info count=%u", info->interface_count);
    for (i = 0; i < (int)info->interface_count && i < 32; i++)
        len += snprintf(line + len, sizeof(line) - len, " %02x:%02x:%02x:%02x", info->interface[i],
                        info->interface_class[i], info->interface_subclass[i], info->interface_protocol[i]);
    report("%s", line);
}

static void on_ep_info(void *priv, struct usb_redir_ep_info_header *info)
{
    char line[2048], size[8], streams[16];
    int len, i;

    (void)priv;
    len = snprintf(line, sizeof(line), "ep_info");
    for (i = 0; i < 32; i++) {
        if (info->type[i] == usb_redir_type_invalid)
            continue;
        strcpy(size, "-");
        strcpy(streams, "-");
        if (negotiated(usb_redir_cap_ep_info_max_packet_size))
            snprintf(size, sizeof(size), "%u", info->max_packet_size[i]);
        if (negotiated(usb_redir_cap_bulk_streams))
            snprintf(streams, sizeof(streams), "%u", info->max_streams[i]);
        len += snprintf(line + len, sizeof(line) - len, " %02x=%u/%u/%u/%s/%s",
                        (i & 0x0f) | ((i & 0x10) ? 0x80 : 0), info->type[i], info->interval[i],
                        info->interface[i], size, streams);
    }
    report("%s", line);
}

static void on_set_configuration(void *priv, uint64_t id, struct usb_redir_set_configuration_header *h)
{
    struct usb_redir_configuration_status_header status = { usb_redir_success, h->configuration };

    (void)priv;
    report("set_configuration id=%" PRIu64 " configuration=%u", id, h->configuration);
    usbredirparser_send_configuration_status(parser, id, &status);
}

static void on_get_configuration(void *priv, uint64_t id)
{
    struct usb_redir_configuration_status_header status = { usb_redir_success, 1 };

    (void)priv;
    report("get_configuration id=%" PRIu64, id);
    usbredirparser_send_configuration_status(parser, id, &status);
}

static void on_configuration_status(void *priv, uint64_t id, struct usb_redir_configuration_status_header *h)
{
    (void)priv;
    report("configuration_status id=%" PRIu64 " status=%u configuration=%u", id, h->status, h->configuration);
}

static void on_set_alt_setting(void *priv, uint64_t id, struct usb_redir_set_alt_setting_header *h)
{
    struct usb_redir_alt_setting_status_header status = { usb_redir_success, h->interface, h->alt };

    (void)priv;
    report("set_alt_setting id=%" PRIu64 " interface=%u alt=%u", id, h->interface, h->alt);
    usbredirparser_send_alt_setting_status(parser, id, &status);
}

static void on_get_alt_setting(void *priv, uint64_t id, struct usb_redir_get_alt_setting_header *h)
{
    struct usb_redir_alt_setting_status_header status = { usb_redir_success, h->interface, 2 };

    (void)priv;
    report("get_alt_setting id=%" PRIu64 " interface=%u", id, h->interface);
    usbredirparser_send_alt_setting_status(parser, id, &status);
}

static void on_alt_setting_status(void *priv, uint64_t id, struct usb_redir_alt_setting_status_header *h)
{
    (void)priv;
    report("alt_setting_status id=%" PRIu64 " status=%u interface=%u alt=%u", id, h->status, h->interface,
           h->alt);
}

static void on_start_iso_stream(void *priv, uint64_t id, struct usb_redir_start_iso_stream_header *h)
{
    struct usb_redir_iso_stream_status_header status = { usb_redir_success, h->endpoint };
    struct usb_redir_iso_packet_header iso = { h->endpoint, usb_redir_success, 192 };
    uint64_t k;

    (void)priv;
    report("start_iso_stream id=%" PRIu64 " endpoint=%02x pkts_per_urb=%u no_urbs=%u", id, h->endpoint,
           h->pkts_per_urb, h->no_urbs);
    usbredirparser_send_iso_stream_status(parser, id, &status);
    for (k = 0; k < 2; k++) {
        uint8_t *data = pattern(192, (uint8_t)(5 + 10 * k));
        usbredirparser_send_iso_packet(parser, k, &iso, data, 192);
        free(data);
    }
}

static void on_stop_iso_stream(void *priv, uint64_t id, struct usb_redir_stop_iso_stream_header *h)
{
    struct usb_redir_iso_stream_status_header status = { usb_redir_success, h->endpoint };

    (void)priv;
    report("stop_iso_stream id=%" PRIu64 " endpoint=%02x", id, h->endpoint);
    usbredirparser_send_iso_stream_status(parser, id, &status);
}

static void on_iso_stream_status(void *priv, uint64_t id, struct usb_redir_iso_stream_status_header *h)
{
    (void)priv;
    report("iso_stream_status id=%" PRIu64 " status=%u endpoint=%02x", id, h->status, h->endpoint);
}

static void on_start_interrupt_receiving(void *priv, uint64_t id,
                                         struct usb_redir_start_interrupt_receiving_header *h)
{
    struct usb_redir_interrupt_receiving_status_header status = { usb_redir_success, h->endpoint };
    struct usb_redir_interrupt_packet_header interrupt = { h->endpoint, usb_redir_success, 8 };
    uint8_t *data = pattern(8, 3);

    (void)priv;
    report("start_interrupt_receiving id=%" PRIu64 " endpoint=%02x", id, h->endpoint);
    usbredirparser_send_interrupt_receiving_status(parser, id, &status);
    usbredirparser_send_interrupt_packet(parser, 0, &interrupt, data, 8);
    free(data);
}

static void on_stop_interrupt_receiving(void *priv, uint64_t id,
                                        struct usb_redir_stop_interrupt_receiving_header *h)
{
    struct usb_redir_interrupt_receiving_status_header status = { usb_redir_success, h->endpoint };

    (void)priv;
    report("stop_interrupt_receiving id=%" PRIu64 " endpoint=%02x", id, h->endpoint);
    usbredirparser_send_interrupt_receiving_status(parser, id, &status);
}

static void on_interrupt_receiving_status(void *priv, uint64_t id,
                                          struct usb_redir_interrupt_receiving_status_header *h)
{
    (void)priv;
    report("interrupt_receiving_status id=%" PRIu64 " status=%u endpoint=%02x", id, h->status, h->endpoint);
}

static void on_alloc_bulk_streams(void *priv, uint64_t id, struct usb_redir_alloc_bulk_streams_header *h)
{
    struct usb_redir_bulk_streams_status_header status = { h->endpoints, h->no_streams, usb_redir_success };

    (void)priv;
    report("alloc_bulk_streams id=%" PRIu64 " endpoints=%08x no_streams=%u", id, h->endpoints, h->no_streams);
    usbredirparser_send_bulk_streams_status(parser, id, &status);
}

static void on_free_bulk_streams(void *priv, uint64_t id, struct usb_redir_free_bulk_streams_header *h)
{
    struct usb_redir_bulk_streams_status_header status = { h->endpoints, 0, usb_redir_success };

    (void)priv;
    report("free_bulk_streams id=%" PRIu64 " endpoints=%08x", id, h->endpoints);
    usbredirparser_send_bulk_streams_status(parser, id, &status);
}

static void on_bulk_streams_status(void *priv, uint64_t id, struct usb_redir_bulk_streams_status_header *h)
{
    (void)priv;
    report("bulk_streams_status id=%" PRIu64 " endpoints=%08x no_streams=%u status=%u", id, h->endpoints,
           h->no_streams, h->status);
}

static void on_cancel_data_packet(void *priv, uint64_t id)
{
    struct usb_redir_bulk_packet_header bulk;

    (void)priv;
    report("cancel_data_packet id=%" PRIu64, id);
    if (held && held_id == id) {
        memset(&bulk, 0, sizeof(bulk));
        bulk.endpoint = 0x82;
        bulk.status = usb_redir_cancelled;
        usbredirparser_send_bulk_packet(parser, id, &bulk, NULL, 0);
        held = 0;
    }
}

static void on_filter_reject(void *priv)
{
    (void)priv;
    report("filter_reject");
}

static void on_filter_filter(void *priv, struct usbredirfilter_rule *rules, int count)
{
    char *text = usbredirfilter_rules_to_string(rules, count, ",", "|");

    (void)priv;
    report("filter_filter rules=%s", text ? text : "(invalid)");
    usbredirfilter_free(text);
    usbredirfilter_free(rules);
}

static void on_device_disconnect_ack(void *priv)
{
    (void)priv;
    report("device_disconnect_ack");
}

static void on_start_bulk_receiving(void *priv, uint64_t id, struct usb_redir_start_bulk_receiving_header *h)
{
    struct usb_redir_bulk_receiving_status_header status = { h->stream_id, h->endpoint, usb_redir_success };
    struct usb_redir_buffered_bulk_packet_header buffered = { h->stream_id, h->bytes_per_transfer, h->endpoint,
                                                              usb_redir_success };
    uint8_t *data = pattern(h->bytes_per_transfer, 7);

    (void)priv;
    report("start_bulk_receiving id=%" PRIu64 " stream_id=%u bytes_per_transfer=%u endpoint=%02x no_transfers=%u",
           id, h->stream_id, h->bytes_per_transfer, h->endpoint, h->no_transfers);
    usbredirparser_send_bulk_receiving_status(parser, id, &status);
    usbredirparser_send_buffered_bulk_packet(parser, 0, &buffered, data, h->bytes_per_transfer);
    free(data);
}

static void on_stop_bulk_receiving(void *priv, uint64_t id, struct usb_redir_stop_bulk_receiving_header *h)
{
    struct usb_redir_bulk_receiving_status_header status = { h->stream_id, h->endpoint, usb_redir_success };

    (void)priv;
    report("stop_bulk_receiving id=%" PRIu64 " stream_id=%u endpoint=%02x", id, h->stream_id, h->endpoint);
    usbredirparser_send_bulk_receiving_status(parser, id, &status);
}

static void on_bulk_receiving_status(void *priv, uint64_t id, struct usb_redir_bulk_receiving_status_header *h)
{
    (void)priv;
    report("bulk_receiving_status id=%" PRIu64 " stream_id=%u endpoint=%02x status=%u", id, h->stream_id,
           h->endpoint, h->status);
}

static const uint8_t device_descriptor[18] = {
    0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x34, 0x12, 0x78, 0x56, 0x10, 0x01, 0x01, 0x02, 0x03, 0x01,
};

static void on_control_packet(void *priv, uint64_t id, struct usb_redir_control_packet_header *h,
                              uint8_t *data, int len)
{
    struct usb_redir_control_packet_header answer = *h;

    (void)priv;
    report("control_packet id=%" PRIu64 " endpoint=%02x request=%02x requesttype=%02x status=%u value=%04x "
           "index=%04x length=%u data=%s",
           id, h->endpoint, h->request, h->requesttype, h->status, h->value, h->index, h->length,
           payload(data, len));
    usbredirparser_free_packet_data(parser, data);
    if (!is_host)
        return;
    answer.status = usb_redir_success;
    if (h->endpoint & 0x80) {
        answer.length = h->length < 18 ? h->length : 18;
        usbredirparser_send_control_packet(parser, id, &answer, (uint8_t *)device_descriptor, answer.length);
    } else {
        usbredirparser_send_control_packet(parser, id, &answer, NULL, 0);
    }
}

static void on_bulk_packet(void *priv, uint64_t id, struct usb_redir_bulk_packet_header *h, uint8_t *data,
                           int len)
{
    uint32_t length = h->length | ((uint32_t)h->length_high << 16);
    struct usb_redir_bulk_packet_header answer = *h;

    (void)priv;
    report("bulk_packet id=%" PRIu64 " endpoint=%02x status=%u length=%u stream_id=%u data=%s", id, h->endpoint,
           h->status, length, h->stream_id, payload(data, len));
    usbredirparser_free_packet_data(parser, data);
    if (!is_host)
        return;
    answer.status = usb_redir_success;
    if (h->endpoint == 0x82) {
        held = 1;
        held_id = id;
    } else if (h->endpoint & 0x80) {
        uint8_t *reply = pattern(length, 2);
        usbredirparser_send_bulk_packet(parser, id, &answer, reply, length);
        free(reply);
    } else {
        usbredirparser_send_bulk_packet(parser, id, &answer, NULL, 0);
    }
}

static void on_iso_packet(void *priv, uint64_t id, struct usb_redir_iso_packet_header *h, uint8_t *data,
                          int len)
{
    (void)priv;
    report("iso_packet id=%" PRIu64 " endpoint=%02x status=%u length=%u data=%s", id, h->endpoint, h->status,
           h->length, payload(data, len));
    usbredirparser_free_packet_data(parser, data);
}

static void on_interrupt_packet(void *priv, uint64_t id, struct usb_redir_interrupt_packet_header *h,
                                uint8_t *data, int len)
{
    struct usb_redir_interrupt_packet_header answer = *h;

    (void)priv;
    report("interrupt_packet id=%" PRIu64 " endpoint=%02x status=%u length=%u data=%s", id, h->endpoint,
           h->status, h->length, payload(data, len));
    usbredirparser_free_packet_data(parser, data);
    if (is_host && !(h->endpoint & 0x80)) {
        answer.status = usb_redir_success;
        usbredirparser_send_interrupt_packet(parser, id, &answer, NULL, 0);
    }
}

static void on_buffered_bulk_packet(void *priv, uint64_t id, struct usb_redir_buffered_bulk_packet_header *h,
                                    uint8_t *data, int len)
{
    (void)priv;
    report("buffered_bulk_packet id=%" PRIu64 " stream_id=%u endpoint=%02x status=%u length=%u data=%s", id,
           h->stream_id, h->endpoint, h->status, h->length, payload(data, len));
    usbredirparser_free_packet_data(parser, data);
}

int main(int argc, char **argv)
{
    uint32_t caps;

    if (argc != 3 || (strcmp(argv[1], "host") && strcmp(argv[1], "guest"))) {
        fprintf(stderr, "usage: %s host|guest CAPS_HEX\n", argv[0]);
        return 2;
    }
    is_host = !strcmp(argv[1], "host");
    caps = (uint32_t)strtoul(argv[2], NULL, 16);

    parser = usbredirparser_create();
    if (!parser)
        return 4;
    parser->log_func = on_log;
    parser->read_func = on_read;
    parser->write_func = on_write;
    parser->hello_func = on_hello;
    parser->device_connect_func = on_device_connect;
    parser->device_disconnect_func = on_device_disconnect;
    parser->reset_func = on_reset;
    parser->interface_info_func = on_interface_info;
    parser->ep_info_func = on_ep_info;
    parser->set_configuration_func = on_set_configuration;
    parser->get_configuration_func = on_get_configuration;
    parser->configuration_status_func = on_configuration_status;
    parser->set_alt_setting_func = on_set_alt_setting;
    parser->get_alt_setting_func = on_get_alt_setting;
    parser->alt_setting_status_func = on_alt_setting_status;
    parser->start_iso_stream_func = on_start_iso_stream;
    parser->stop_iso_stream_func = on_stop_iso_stream;
    parser->iso_stream_status_func = on_iso_stream_status;
    parser->start_interrupt_receiving_func = on_start_interrupt_receiving;
    parser->stop_interrupt_receiving_func = on_stop_interrupt_receiving;
    parser->interrupt_receiving_status_func = on_interrupt_receiving_status;
    parser->alloc_bulk_streams_func = on_alloc_bulk_streams;
    parser->free_bulk_streams_func = on_free_bulk_streams;
    parser->bulk_streams_status_func = on_bulk_streams_status;
    parser->cancel_data_packet_func = on_cancel_data_packet;
    parser->filter_reject_func = on_filter_reject;
    parser->filter_filter_func = on_filter_filter;
    parser->device_disconnect_ack_func = on_device_disconnect_ack;
    parser->start_bulk_receiving_func = on_start_bulk_receiving;
    parser->stop_bulk_receiving_func = on_stop_bulk_receiving;
    parser->bulk_receiving_status_func = on_bulk_receiving_status;
    parser->control_packet_func = on_control_packet;
    parser->bulk_packet_func = on_bulk_packet;
    parser->iso_packet_func = on_iso_packet;
    parser->interrupt_packet_func = on_interrupt_packet;
    parser->buffered_bulk_packet_func = on_buffered_bulk_packet;
    usbredirparser_init(parser, "asp-usbredir-peer 1", &caps, 1, is_host ? usbredirparser_fl_usb_host : 0);

    for (;;) {
        struct pollfd pfd = { 0, POLLIN, 0 };
        int r;

        while (usbredirparser_has_data_to_write(parser)) {
            if (usbredirparser_do_write(parser) < 0) {
                report("write error");
                return 5;
            }
        }
        if (at_eof)
            break;
        r = poll(&pfd, 1, 10000);
        if (r == 0) {
            report("timeout");
            return 3;
        }
        if (r < 0)
            continue;
        r = usbredirparser_do_read(parser);
        if (r == usbredirparser_read_parse_error)
            report("parse_error");
    }
    usbredirparser_destroy(parser);
    report("bye");
    return 0;
}

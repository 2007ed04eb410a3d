package infracheck

import (
	"regexp"
	"strconv"
	"strings"
)

// confSize matches a size setting of nats.conf, such as max_file_store: 1536M
// (k, m and g count in powers of 1024, as nats-server reads them).
var confSize = regexp.MustCompile(`(?mi)^\s*(max_file_store|store_dir)\s*[:=]\s*"?([^"\s#]+)"?`)

// jetStreamLimitProblems: with components/jetstream, the JetStream store
// cannot outgrow its volume (max_file_store within natsStoreShare of it) and
// the stream's limit (JETSTREAM_MAX_BYTES) fits the store, so a full
// stream drops its oldest messages instead of refusing publishes.
func jetStreamLimitProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		for _, c := range w.Template.Spec.Containers {
			if name, _, _ := splitImage(c.Image); name != "nats" {
				continue
			}
			conf, ok := r.configMapData("nats-server")
			if !ok {
				problems = append(problems, problemf("%s: %s: no nats-server ConfigMap with nats.conf", r.Target.Name, w))
				continue
			}
			settings := map[string]string{}
			for _, m := range confSize.FindAllStringSubmatch(conf["nats.conf"], -1) {
				settings[strings.ToLower(m[1])] = m[2]
			}
			store, ok := parseConfSize(settings["max_file_store"])
			if !ok {
				problems = append(problems, problemf("%s: %s: nats.conf sets no readable jetstream max_file_store (%q)", r.Target.Name, w, settings["max_file_store"]))
				continue
			}
			volume, ok := natsVolumeBytes(w, c, settings["store_dir"])
			if !ok {
				problems = append(problems, problemf("%s: %s: the JetStream store_dir %q is on no volume claim", r.Target.Name, w, settings["store_dir"]))
				continue
			}
			if float64(store) > natsStoreShare*float64(volume) {
				problems = append(problems, problemf("%s: %s: max_file_store %d bytes is more than %.0f%% of the %d-byte volume",
					r.Target.Name, w, store, natsStoreShare*100, volume))
			}
			cfg, _ := r.configMapData("nats-config")
			streamMax, err := strconv.ParseInt(cfg["JETSTREAM_MAX_BYTES"], 10, 64)
			switch {
			case err != nil:
				problems = append(problems, problemf("%s: nats-config has no JETSTREAM_MAX_BYTES in bytes (%q): the stream would take the services' default", r.Target.Name, cfg["JETSTREAM_MAX_BYTES"]))
			case streamMax > store:
				problems = append(problems, problemf("%s: JETSTREAM_MAX_BYTES %d is more than the store's max_file_store %d", r.Target.Name, streamMax, store))
			}
		}
	}
	return problems
}

func parseConfSize(s string) (int64, bool) {
	s = strings.ToUpper(strings.TrimSuffix(strings.ToUpper(s), "B"))
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
}

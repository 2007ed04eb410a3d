package infracheck

import (
	"flag"
	"io"
	"slices"
	"strings"

	stand "github.com/nats-io/nats-streaming-server/server"
	corev1 "k8s.io/api/core/v1"
)

// natsStoreShare is how much of its volume the NATS Streaming store limits
// may take; the rest is for the subscription, client and index files.
const natsStoreShare = 0.75

// natsLimitProblems: the NATS Streaming file store cannot outgrow its volume.
// The server's own flag parser reads the container's arguments; every
// channel may hold max_bytes plus one file slice (disk space comes back a
// slice at a time), max_channels of them must fit in natsStoreShare of the
// volume, and messages expire by age as well.
func natsLimitProblems(r *rendering) []error {
	var problems []error
	for _, w := range r.workloads() {
		for _, c := range w.Template.Spec.Containers {
			if name, _, _ := splitImage(c.Image); name != "nats-streaming" {
				continue
			}
			add := func(format string, args ...any) {
				problems = append(problems, problemf("%s: %s container %s: store limits: "+format, append([]any{r.Target.Name, w, c.Name}, args...)...))
			}
			fs := flag.NewFlagSet("nats-streaming-server", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			opts, _, err := stand.ConfigureOptions(fs, slices.Clone(c.Args), func() {}, func() {}, func() {})
			if err != nil {
				add("the server would refuse its arguments: %v", err)
				continue
			}
			volume, ok := natsVolumeBytes(w, c, opts.FilestoreDir)
			if !ok {
				add("no volume claim mounted at the store directory %s", opts.FilestoreDir)
				continue
			}
			lim := opts.StoreLimits
			if lim.MaxChannels <= 0 || lim.MaxBytes <= 0 {
				add("max_channels (%d) and max_bytes (%d) must both be set: by default a channel may take 1 GB", lim.MaxChannels, lim.MaxBytes)
				continue
			}
			if lim.MaxAge <= 0 {
				add("max_age is not set: messages are kept until the size limits push them out")
			}
			perChannel := lim.MaxBytes + opts.FileStoreOpts.SliceMaxBytes
			if total := int64(lim.MaxChannels) * perChannel; float64(total) > natsStoreShare*float64(volume) {
				add("%d channels x (%d max_bytes + %d slice) = %d bytes, over %.0f%% of the %d-byte volume",
					lim.MaxChannels, lim.MaxBytes, opts.FileStoreOpts.SliceMaxBytes, total, natsStoreShare*100, volume)
			}
		}
	}
	return problems
}

// natsVolumeBytes is the requested size of the claim template mounted where
// the container keeps its store (the -dir argument).
func natsVolumeBytes(w workload, c corev1.Container, dir string) (int64, bool) {
	for _, m := range c.VolumeMounts {
		if dir != m.MountPath && !strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, pvc := range w.ClaimTemplates {
			if pvc.Name == m.Name {
				q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
				return q.Value(), ok
			}
		}
	}
	return 0, false
}

package infracheck

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// autoscaled are the Deployments a crowd loads first.
var autoscaled = []string{"tickets", "orders", "client"}

// autoscalingProblems: each of them has a HorizontalPodAutoscaler that keeps
// at least two copies, may add some, scales on CPU (which needs a CPU request
// on every container), and the Deployment leaves the count to it, so a
// deploy does not reset what the autoscaler chose.
func autoscalingProblems(r *rendering) []error {
	var problems []error
	for _, name := range autoscaled {
		o, ok := r.find("Deployment", name)
		if !ok {
			problems = append(problems, fmt.Errorf("Deployment/%s: missing", name))
			continue
		}
		d := o.Typed.(*appsv1.Deployment)
		if d.Spec.Replicas != nil {
			problems = append(problems, fmt.Errorf("Deployment/%s: sets replicas %d, which every deploy would reset under its autoscaler", name, *d.Spec.Replicas))
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Resources.Requests.Cpu().IsZero() {
				problems = append(problems, fmt.Errorf("Deployment/%s: container %s has no CPU request to scale on", name, c.Name))
			}
		}
		hpa := autoscalerOf(r, name)
		switch {
		case hpa == nil:
			problems = append(problems, fmt.Errorf("Deployment/%s: no HorizontalPodAutoscaler scales it", name))
		case replicas(hpa.Spec.MinReplicas) < 2:
			problems = append(problems, fmt.Errorf("HorizontalPodAutoscaler/%s: minReplicas %d leaves one copy", hpa.Name, replicas(hpa.Spec.MinReplicas)))
		case hpa.Spec.MaxReplicas <= replicas(hpa.Spec.MinReplicas):
			problems = append(problems, fmt.Errorf("HorizontalPodAutoscaler/%s: maxReplicas %d leaves no room to grow", hpa.Name, hpa.Spec.MaxReplicas))
		case !scalesOnCPU(hpa):
			problems = append(problems, fmt.Errorf("HorizontalPodAutoscaler/%s: does not scale on CPU utilisation", hpa.Name))
		}
	}
	return problems
}

func autoscalerOf(r *rendering, deployment string) *autoscalingv2.HorizontalPodAutoscaler {
	for _, o := range r.byKind("HorizontalPodAutoscaler") {
		hpa := o.Typed.(*autoscalingv2.HorizontalPodAutoscaler)
		if ref := hpa.Spec.ScaleTargetRef; ref.Kind == "Deployment" && ref.Name == deployment {
			return hpa
		}
	}
	return nil
}

func scalesOnCPU(hpa *autoscalingv2.HorizontalPodAutoscaler) bool {
	for _, m := range hpa.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil {
			return true
		}
	}
	return false
}

func TestAutoscaling(t *testing.T) {
	eachOverlay(t, autoscalingProblems, "overlays/prod", "overlays/dev")
}

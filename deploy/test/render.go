// Package deploytest checks gosysdig's Kubernetes deployment: the Helm chart in ../helm/gosysdig
// and the manifests in ../kubernetes rendered from it. It is a module of its own so that Helm and
// the Kubernetes API types stay out of gosysdig's dependencies.
package deploytest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// ChartDir is the chart, relative to this package.
const ChartDir = "../helm/gosysdig"

// Objects is what a rendering holds, decoded into the Kubernetes API types.
type Objects struct {
	DaemonSet      *appsv1.DaemonSet
	ServiceAccount *corev1.ServiceAccount
	ConfigMap      *corev1.ConfigMap
	// YAML is the rendering as one multi-document stream, templates in name order.
	YAML []byte
}

// Render renders the chart as `helm template` would for a release named name in namespace,
// with values over the chart's defaults, and decodes every manifest strictly: an unknown field,
// a duplicate key or a kind this chart should not produce is an error.
func Render(name, namespace string, values map[string]any) (*Objects, error) {
	chrt, err := loader.Load(ChartDir)
	if err != nil {
		return nil, fmt.Errorf("loading the chart: %w", err)
	}
	vals, err := util.ToRenderValues(chrt, values, common.ReleaseOptions{Name: name, Namespace: namespace, IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	objs := &Objects{}
	for _, n := range names {
		for _, doc := range splitDocs([]byte(files[n])) {
			if err := objs.add(doc); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(n), err)
			}
			objs.YAML = append(objs.YAML, "---\n# Source: "+strings.TrimPrefix(n, chrt.Name()+"/")+"\n"...)
			objs.YAML = append(objs.YAML, doc...)
			objs.YAML = append(objs.YAML, '\n')
		}
	}
	if objs.DaemonSet == nil || objs.ServiceAccount == nil {
		return nil, fmt.Errorf("the rendering lacks the DaemonSet or the ServiceAccount")
	}
	return objs, nil
}

// splitDocs splits a YAML stream into its non-empty documents.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---")) {
		d = bytes.TrimPrefix(bytes.TrimSpace(d), []byte("---"))
		var nonComment bool
		for _, l := range bytes.Split(d, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' {
				nonComment = true
			}
		}
		if nonComment {
			docs = append(docs, bytes.TrimSpace(d))
		}
	}
	return docs
}

func (o *Objects) add(doc []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	var into any
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 DaemonSet":
		o.DaemonSet = &appsv1.DaemonSet{}
		into = o.DaemonSet
	case "v1 ServiceAccount":
		o.ServiceAccount = &corev1.ServiceAccount{}
		into = o.ServiceAccount
	case "v1 ConfigMap":
		o.ConfigMap = &corev1.ConfigMap{}
		into = o.ConfigMap
	default:
		return fmt.Errorf("unexpected object %s %s", head.APIVersion, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		return fmt.Errorf("%s: %w", head.Kind, err)
	}
	return nil
}

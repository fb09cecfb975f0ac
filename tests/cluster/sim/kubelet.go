package sim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// reconcileNode registers one Ready node.
func (s *Sim) reconcileNode(ctx context.Context) error {
	n, err := s.Kube.CoreV1().Nodes().Get(ctx, s.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n, err = s.Kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:   s.NodeName,
			Labels: map[string]string{"kubernetes.io/hostname": s.NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kstage-simulated"},
		}}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && n.Status.DaemonEndpoints.KubeletEndpoint.Port == s.KubeletPort {
			return nil
		}
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("500"),
	}
	n.Status.Capacity, n.Status.Allocatable = capacity, capacity
	n.Status.Phase = corev1.NodeRunning
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = s.KubeletPort
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: s.NodeName}}
	n.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: "v1.36.3-kstage-sim", OperatingSystem: "linux", Architecture: "amd64", ContainerRuntimeVersion: "kstage-sim://1"}
	n.Status.Conditions = []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "simulated kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", LastHeartbeatTime: now, LastTransitionTime: now},
	}
	_, err = s.Kube.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (s *Sim) podIP(uid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := types.UID(uid)
	if ip, ok := s.podIPs[key]; ok {
		return ip
	}
	s.nextIP++
	ip := fmt.Sprintf("10.244.%d.%d", (s.nextIP/250)%250, s.nextIP%250+2)
	s.podIPs[key] = ip
	return ip
}

// podPlan is what the simulated kubelet decides for a pod.
type podPlan struct {
	phase        corev1.PodPhase
	ready        bool
	waiting      string // container waiting reason
	message      string
	terminated   *corev1.ContainerStateTerminated
	restartCount int32
	// lastTerminated is the container's previous exit (real controllers)
	lastTerminated *corev1.ContainerStateTerminated
	// container, when set, is the one container the plan is about (a real
	// controller); the pod's other containers run, ready, never restarted
	container string
}

// reconcilePods binds unscheduled pods to the node, deletes terminating pods
// and moves bound pods along Pending -> Running/Ready (or Succeeded for Job pods).
func (s *Sim) reconcilePods(ctx context.Context) error {
	pods, err := s.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var rsAnn map[string]map[string]string // ns/name -> annotations, loaded lazily
	ownerAnn := func(p *corev1.Pod) map[string]string {
		for _, o := range p.OwnerReferences {
			if o.Kind != "ReplicaSet" {
				continue
			}
			if rsAnn == nil {
				rsAnn = map[string]map[string]string{}
				if l, err := s.Kube.AppsV1().ReplicaSets("").List(ctx, metav1.ListOptions{}); err == nil {
					for _, rs := range l.Items {
						rsAnn[rs.Namespace+"/"+rs.Name] = rs.Annotations
					}
				}
			}
			return rsAnn[p.Namespace+"/"+o.Name]
		}
		return nil
	}
	live := map[types.UID]bool{}
	defer func() {
		for _, rc := range s.Real {
			rc.reap(live)
		}
	}()
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp == nil {
			live[p.UID] = true
		}
		if p.DeletionTimestamp != nil {
			if p.Spec.NodeName == s.NodeName || p.Spec.NodeName == "" {
				zero := int64(0)
				err := s.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &p.UID}})
				if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
					s.Log.Printf("delete pod %s/%s: %v", p.Namespace, p.Name, err)
				}
			}
			continue
		}
		if p.Spec.NodeName == "" {
			err := s.Kube.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
				Target:     corev1.ObjectReference{Kind: "Node", Name: s.NodeName},
			}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				s.Log.Printf("bind pod %s/%s: %v", p.Namespace, p.Name, err)
			}
			continue
		}
		if p.Spec.NodeName != s.NodeName || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		k := knobsOf(p.Annotations, ownerAnn(p))
		plan := s.planPod(ctx, p, k)
		if err := s.writePodStatus(ctx, p, plan); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			s.Log.Printf("pod status %s/%s: %v", p.Namespace, p.Name, err)
		}
	}
	return nil
}

func isJobPod(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Kind == "Job" {
			return true
		}
	}
	return p.Spec.RestartPolicy == corev1.RestartPolicyNever
}

func (s *Sim) planPod(ctx context.Context, p *corev1.Pod, k knobs) podPlan {
	age := s.seen(string(p.UID))
	if age < k.delay {
		return podPlan{phase: corev1.PodPending, waiting: "ContainerCreating"}
	}
	if k.fail != "" {
		if isJobPod(p) {
			return podPlan{phase: corev1.PodFailed, terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: k.fail}}
		}
		return podPlan{phase: corev1.PodRunning, waiting: "CrashLoopBackOff", message: k.fail, restartCount: int32((age-k.delay)/(10*time.Second)) + 1}
	}
	for _, rc := range s.Real {
		if pl := rc.plan(ctx, s, p); pl != nil {
			return *pl
		}
	}
	if gate := s.kserveGate(p); gate != nil {
		return *gate
	}
	if isJobPod(p) {
		return podPlan{phase: corev1.PodSucceeded, terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}
	}
	if k.neverReady {
		return podPlan{phase: corev1.PodRunning, ready: false}
	}
	return podPlan{phase: corev1.PodRunning, ready: true}
}

func (s *Sim) writePodStatus(ctx context.Context, p *corev1.Pod, plan podPlan) error {
	readyStr := corev1.ConditionFalse
	if plan.ready {
		readyStr = corev1.ConditionTrue
	}
	// Unchanged? Compare the parts we own.
	if p.Status.Phase == plan.phase && podCond(p, corev1.PodReady) == readyStr && len(p.Status.ContainerStatuses) == len(p.Spec.Containers) {
		same := true
		for _, cs := range p.Status.ContainerStatuses {
			w := ""
			if cs.State.Waiting != nil {
				w = cs.State.Waiting.Reason
			}
			if plan.container != "" && cs.Name != plan.container {
				continue
			}
			if w != plan.waiting || cs.RestartCount != plan.restartCount {
				same = false
			}
		}
		if same {
			return nil
		}
	}
	now := metav1.Now()
	st := p.Status.DeepCopy()
	st.Phase = plan.phase
	st.HostIP = "127.0.0.1"
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	scheduled := corev1.ConditionTrue
	initialized := corev1.ConditionTrue
	if plan.phase != corev1.PodPending {
		ip := s.podIP(string(p.UID))
		st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	cready := readyStr
	if plan.phase == corev1.PodSucceeded {
		cready = corev1.ConditionFalse
	}
	setPodCond(st, corev1.PodScheduled, scheduled, "", now)
	setPodCond(st, corev1.PodInitialized, initialized, "", now)
	setPodCond(st, corev1.ContainersReady, cready, plan.message, now)
	setPodCond(st, corev1.PodReady, readyStr, plan.message, now)
	st.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "kstage-sim://" + c.Image, ContainerID: "kstage-sim://" + string(p.UID)[:8] + "-" + c.Name, RestartCount: plan.restartCount}
		switch {
		case plan.container != "" && c.Name != plan.container:
			cs.RestartCount = 0
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: *st.StartTime}
			started := true
			cs.Started, cs.Ready = &started, true
		case plan.terminated != nil:
			t := *plan.terminated
			t.StartedAt, t.FinishedAt = *st.StartTime, now
			cs.State.Terminated = &t
		case plan.waiting != "":
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: plan.waiting, Message: plan.message}
		default:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
			started := true
			cs.Started = &started
			cs.Ready = plan.ready
		}
		if plan.lastTerminated != nil && c.Name == plan.container {
			cs.LastTerminationState.Terminated = plan.lastTerminated
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	c := p.DeepCopy()
	c.Status = *st
	_, err := s.Kube.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
	return err
}

func podCond(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func setPodCond(st *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, msg string, now metav1.Time) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != status {
				st.Conditions[i].LastTransitionTime = now
			}
			st.Conditions[i].Status = status
			st.Conditions[i].Message = msg
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: status, Message: msg, LastTransitionTime: now})
}

// KubeletLogs serves the kubelet's containerLogs endpoint, which the API
// server proxies pods/log to: GET /containerLogs/{ns}/{pod}/{container}
// answers the pod's KnobLog annotation (its last tailLines lines when asked),
// or 404 when the pod or container does not exist.
func (s *Sim) KubeletLogs() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/containerLogs/") || len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		p, err := s.Kube.CoreV1().Pods(parts[0]).Get(r.Context(), parts[1], metav1.GetOptions{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		found := false
		for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
			found = found || c.Name == parts[2]
		}
		if !found {
			http.Error(w, fmt.Sprintf("container %q not found in pod %q", parts[2], parts[1]), http.StatusNotFound)
			return
		}
		text := p.Annotations[KnobLog]
		for _, rc := range s.Real {
			if l, ok := rc.PodLog(p.UID, parts[2]); ok {
				text = l
			}
		}
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n >= 0 {
			lines := strings.SplitAfter(text, "\n")
			lines = lines[:len(lines)-1] // after the last newline: ""
			if len(lines) > n {
				lines = lines[len(lines)-n:]
			}
			text = strings.Join(lines, "")
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(text))
	})
}

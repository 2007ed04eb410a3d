#!/usr/bin/env bash
# Restores one service's database from a dump the nightly backup uploaded
# (base/mongo/backup.yaml), in a one-off pod:
#
#   infra/k8s/restore.sh <service> <backup-object>
#   infra/k8s/restore.sh orders orders-mongo/2026-12-04T023000Z.archive.gz
#
# List the dumps with the AWS CLI (the bucket and endpoint are in the Secret
# backup-spaces): aws s3 ls s3://<bucket>/orders-mongo/ --endpoint-url <endpoint>
#
# The service is scaled to zero first, so nothing writes while its database
# is replaced, and given back its copies once the restore succeeded; after a
# failure it stays at zero (the database may be half restored) and the
# script says how to bring it back. The pod downloads the
# object, then runs mongorestore --archive --gzip --drop against the set's
# primary as the set's admin user: every collection in the dump replaces the
# one in the database (collections the dump lacks are left alone); the
# users are not in the dump and stay as they are. It uses the images the
# backup CronJob in the cluster uses, and carries the backup's labels, so
# the network policies let it reach the set and Spaces and nothing else.
set -euo pipefail

usage() {
  echo "usage: $0 <auth|tickets|orders|payments> <backup-object>" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
svc=$1 object=$2
case $svc in
  auth | tickets | orders | payments) ;;
  *) usage ;;
esac
ns=${NAMESPACE:-ticketing}
set_name="$svc-mongo"
backup="$set_name-backup"
# Long enough to download and restore a database that fits its 1Gi volume.
timeout=${RESTORE_TIMEOUT_SECONDS:-1800}

k() { kubectl -n "$ns" "$@"; }

images='{.spec.jobTemplate.spec.template.spec.initContainers[0].image} {.spec.jobTemplate.spec.template.spec.containers[0].image}'
# (jsonpath prints no final newline, at which read would fail.)
read -r mongo_image aws_image <<<"$(k get cronjob "$backup" -o jsonpath="$images")"
if [[ -z ${mongo_image:-} || -z ${aws_image:-} ]]; then
  echo "restore.sh: no images in cronjob/$backup: is the app deployed in namespace $ns?" >&2
  exit 1
fi

copies=$(k get deployment "$svc" -o jsonpath='{.status.replicas}')
copies=${copies:-0}
pod="$set_name-restore-$(date -u +%Y%m%d%H%M%S)"
echo "restoring $set_name from $object in pod $pod; $svc scaled from $copies to 0 meanwhile"
back=$((copies > 0 ? copies : 2))
k scale deployment "$svc" --replicas=0
on_exit() {
  local status=$?
  if ((status != 0)); then
    echo "restore.sh: failed; $svc stays at 0 copies. Check the database, then:" >&2
    echo "  kubectl -n $ns scale deployment $svc --replicas=$back" >&2
  fi
}
trap on_exit EXIT

k apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  labels:
    app.kubernetes.io/name: mongo-backup
    app.kubernetes.io/instance: $set_name
    app.kubernetes.io/component: restore
spec:
  restartPolicy: Never
  serviceAccountName: $backup
  automountServiceAccountToken: false
  enableServiceLinks: false
  activeDeadlineSeconds: $timeout
  securityContext:
    runAsNonRoot: true
    runAsUser: 999
    runAsGroup: 999
    fsGroup: 999
    seccompProfile:
      type: RuntimeDefault
  initContainers:
    - name: download
      image: $aws_image
      command:
        - bash
        - -ceu
        - |
          aws s3 cp "s3://\$SPACES_BUCKET/\$OBJECT" /backup/dump.archive.gz \\
            --endpoint-url "\$SPACES_ENDPOINT" --no-progress
      env:
        - name: OBJECT
          value: "$object"
        - name: SPACES_ENDPOINT
          valueFrom:
            secretKeyRef:
              name: backup-spaces
              key: endpoint
        - name: SPACES_BUCKET
          valueFrom:
            secretKeyRef:
              name: backup-spaces
              key: bucket
        - name: AWS_ACCESS_KEY_ID
          valueFrom:
            secretKeyRef:
              name: backup-spaces
              key: access-key-id
        - name: AWS_SECRET_ACCESS_KEY
          valueFrom:
            secretKeyRef:
              name: backup-spaces
              key: secret-access-key
        - name: AWS_DEFAULT_REGION
          value: us-east-1
        - name: AWS_REQUEST_CHECKSUM_CALCULATION
          value: when_required
        - name: AWS_RESPONSE_CHECKSUM_VALIDATION
          value: when_required
        - name: HOME
          value: /tmp
      resources:
        requests:
          cpu: 100m
          memory: 128Mi
        limits:
          cpu: "1"
          memory: 512Mi
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities:
          drop:
            - ALL
      volumeMounts:
        - name: backup
          mountPath: /backup
        - name: tmp
          mountPath: /tmp
  containers:
    - name: restore
      image: $mongo_image
      command:
        - bash
        - -ceu
        - |
          umask 077
          who="\$(< /admin/username):\$(< /admin/password)"
          printf 'uri: "mongodb://%s@%s:27017/?replicaSet=%s&authSource=admin"\n' \\
            "\$who" "\$REPLICA_SET" "\$REPLICA_SET" > /tmp/mongorestore.yaml
          mongorestore --config=/tmp/mongorestore.yaml --nsInclude="\$MONGO_DATABASE.*" \\
            --archive=/backup/dump.archive.gz --gzip --drop
      env:
        - name: REPLICA_SET
          value: $set_name
        - name: MONGO_DATABASE
          value: $svc
      resources:
        requests:
          cpu: 100m
          memory: 128Mi
        limits:
          cpu: "1"
          memory: 512Mi
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities:
          drop:
            - ALL
      volumeMounts:
        - name: admin
          mountPath: /admin
          readOnly: true
        - name: backup
          mountPath: /backup
          readOnly: true
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: admin
      secret:
        secretName: $set_name-admin
        defaultMode: 0440
        items:
          - key: username
            path: username
          - key: password
            path: password
    - name: backup
      emptyDir:
        sizeLimit: 1Gi
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
EOF

phase=""
for ((waited = 0; waited < timeout + 60; waited += 5)); do
  phase=$(k get pod "$pod" -o jsonpath='{.status.phase}')
  [[ $phase == Succeeded || $phase == Failed ]] && break
  sleep 5
done
k logs "$pod" -c download || true
k logs "$pod" -c restore || true
if [[ $phase != Succeeded ]]; then
  echo "restore.sh: pod $pod ended $phase; it is left for a look (kubectl -n $ns describe pod $pod)" >&2
  exit 1
fi
k delete pod "$pod" --wait=false
k scale deployment "$svc" --replicas="$back"
echo "restored $set_name from $object; $svc is back at $back copies"

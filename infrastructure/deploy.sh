#!/usr/bin/env bash
# Deploy or remove one quantdesk stage with the standard AWS CLI:
#   infrastructure/deploy.sh deploy STAGE     (make deploy STAGE=<name>; runs after make package)
#   infrastructure/deploy.sh destroy STAGE    (make destroy STAGE=<name>)
#   infrastructure/deploy.sh check STAGE      (stage name and credentials only)
# The stack is quantdesk-<STAGE>; every name in it derives from the stack, so stages share an
# account. With LOCALSTACK_HOST=host:port every call goes to that endpoint instead of AWS.
# Optional: DIST (default dist), DAILY_SOURCES / WEEKLY_SOURCES (JSON lists of ingestion
# sources for the schedules; default: resources.DEPLOYED_SOURCES, '[]' = no schedule),
# AWS_CLI (default aws).
set -euo pipefail

die() {
  echo "deploy: $*" >&2
  exit 2
}

ACTION=${1:-}
STAGE=${2:-}
DIST=${DIST:-dist}
[[ $ACTION =~ ^(deploy|destroy|check)$ ]] || die "usage: $0 deploy|destroy|check STAGE"
[[ -n $STAGE ]] || die "STAGE is required: make $ACTION STAGE=<name>"
# CloudFormation stack names: a letter, then letters, digits and hyphens. The stage is capped
# so that <stack>-<longest function suffix> stays within Lambda's 64-character names.
# Lower case: the sign-in domain prefix (<stack>-<account>) allows nothing else.
[[ $STAGE =~ ^[a-z][a-z0-9-]{0,29}$ && $STAGE != *- && ! $STAGE =~ aws|amazon|cognito ]] ||
  die "STAGE '$STAGE' is not a valid stage name: 1-30 lower-case letters, digits or hyphens, starting with a letter, not ending with a hyphen, without aws/amazon/cognito (the stack is quantdesk-<STAGE>)"
STACK="quantdesk-$STAGE"

read -r -a AWS <<<"${AWS_CLI:-aws}"
command -v "${AWS[0]}" >/dev/null || die "the AWS CLI ('${AWS[0]}') is not installed (make install puts it in .venv/bin)"
if [[ -n ${LOCALSTACK_HOST:-} ]]; then
  # every client the CLI creates (cloudformation package's S3 uploads too) uses this endpoint
  export AWS_ENDPOINT_URL="http://$LOCALSTACK_HOST"
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
  export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
fi
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-$("${AWS[0]}" configure get region 2>/dev/null || true)}}
[[ -n $REGION ]] || die "no AWS region: set AWS_REGION (or aws configure set region <region>)"
export AWS_DEFAULT_REGION=$REGION AWS_PAGER=""

# credentials are checked before anything is touched
if ! ACCOUNT=$("${AWS[@]}" sts get-caller-identity --query Account --output text 2>&1); then
  die "no usable AWS credentials (aws sts get-caller-identity: ${ACCOUNT//$'\n'/ }); configure them with aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
fi

# the CLI's upload progress (one long line of carriage returns) hides what matters
quiet_uploads() {
  "$@" 2> >(tr '\r' '\n' | grep -v '^Uploading to ' >&2)
}

output() {
  "${AWS[@]}" cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

# a resource's physical id by logical id; empty when the stack has no such resource
physical() {
  "${AWS[@]}" cloudformation describe-stack-resource --stack-name "$STACK" \
    --logical-resource-id "$1" --query StackResourceDetail.PhysicalResourceId \
    --output text 2>/dev/null || true
}

deploy() {
  [[ -f $DIST/template.json && -f $DIST/web/index.html ]] ||
    die "$DIST/template.json or $DIST/web is missing: run make package first"
  # one artifact bucket per account and region, shared by the stages (objects by content hash)
  local bucket="quantdesk-artifacts-$ACCOUNT-$REGION"
  if ! "${AWS[@]}" s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    echo "creating artifact bucket $bucket"
    if [[ $REGION == us-east-1 ]]; then
      "${AWS[@]}" s3api create-bucket --bucket "$bucket" >/dev/null
    else
      "${AWS[@]}" s3api create-bucket --bucket "$bucket" \
        --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null
    fi
    "${AWS[@]}" s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  fi
  quiet_uploads "${AWS[@]}" cloudformation package --template-file "$DIST/template.json" \
    --s3-bucket "$bucket" --s3-prefix "$STACK" --use-json \
    --output-template-file "$DIST/packaged.json" >/dev/null
  local params=("CodeVersion=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
  [[ -z ${DAILY_SOURCES:-} ]] || params+=("IngestDailySources=$DAILY_SOURCES")
  [[ -z ${WEEKLY_SOURCES:-} ]] || params+=("IngestWeeklySources=$WEEKLY_SOURCES")
  # capacity (README, "Capacity at 10,000 researchers"); unset keeps the stack's current value
  [[ -z ${API_THROTTLE_RATE:-} ]] || params+=("ApiThrottleRate=$API_THROTTLE_RATE")
  [[ -z ${API_THROTTLE_BURST:-} ]] || params+=("ApiThrottleBurst=$API_THROTTLE_BURST")
  [[ -z ${STREAM_CONCURRENCY:-} ]] || params+=("StreamReservedConcurrency=$STREAM_CONCURRENCY")
  # /predict's tracking server: given on every deploy (unset = the stack's own registry)
  params+=("PredictTrackingUri=${PREDICT_TRACKING_URI:-}")
  params+=("PredictArtifactBucket=${PREDICT_ARTIFACT_BUCKET:-}")
  quiet_uploads "${AWS[@]}" cloudformation deploy --template-file "$DIST/packaged.json" --stack-name "$STACK" \
    --s3-bucket "$bucket" --s3-prefix "$STACK" --capabilities CAPABILITY_IAM \
    --no-fail-on-empty-changeset --parameter-overrides "${params[@]}"

  local web distribution site domain
  web=$(physical WebBucket)
  [[ -n $web ]] || die "the stack $STACK has no web bucket"
  distribution=$(physical Cdn)
  domain=$(physical UserPoolDomain)
  if [[ -n $distribution ]]; then
    site=$(output SiteUrl)
  fi
  if [[ -n $distribution && -n $domain ]]; then
    # the clients' sign-in configuration (hosted UI, client id), served next to the UI
    "${PYTHON:-python}" -m infrastructure.auth_config --region "$REGION" --domain "$domain" \
      --client-id "$(output UserPoolClientId)" --site-url "$site" >"$DIST/web/auth-config.json"
  fi
  "${AWS[@]}" s3 sync "$DIST/web" "s3://$web" --delete --only-show-errors
  if [[ -n $distribution ]]; then
    "${AWS[@]}" cloudfront create-invalidation --distribution-id "$distribution" \
      --paths '/*' >/dev/null
  else
    site="s3://$web (this endpoint's stack has no CloudFront distribution)"
  fi
  echo "quantdesk $STAGE is deployed: $site"
}

destroy() {
  "${AWS[@]}" cloudformation describe-stacks --stack-name "$STACK" >/dev/null 2>&1 ||
    die "there is no stack $STACK in $REGION"
  local name bucket
  # CloudFormation deletes only empty buckets
  for name in WebBucket DataBucket ResultsBucket; do
    bucket=$(physical "$name")
    if [[ -n $bucket ]]; then
      "${AWS[@]}" s3 rm "s3://$bucket" --recursive --only-show-errors
    fi
  done
  "${AWS[@]}" cloudformation delete-stack --stack-name "$STACK"
  # poll (the CLI's waiter first looks after 30 s); by name a deleted stack is not found
  local status
  while status=$("${AWS[@]}" cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].StackStatus" --output text 2>/dev/null); do
    [[ $status != DELETE_FAILED ]] || die "deleting $STACK failed: see its events in the console"
    sleep "${POLL_S:-5}"
  done
  echo "quantdesk $STAGE is removed"
}

check() {
  echo "stack $STACK in account $ACCOUNT, $REGION"
}

"$ACTION"

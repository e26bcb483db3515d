"""Amazon SQS as a :class:`~lifecyclegraph.ingest.queues.base.Queue` (boto3, the
optional extra ``[sqs]``).

Long polling (``wait_seconds``, up to 20), a visibility timeout while a batch is
recorded, and a batch delete only after the batch's events are committed to the
journal. ``ApproximateReceiveCount`` tells the consumer how often a message came back.
Credentials come from boto3's usual chain (environment, shared files, ``profile``, an
instance role), never from the configuration file.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from lifecyclegraph.core.config import QueueConfig
from lifecyclegraph.core.errors import QueueError
from lifecyclegraph.ingest.queues.base import Message, Queue

__all__ = ["SqsQueue"]

log = logging.getLogger("lifecyclegraph.ingest.queues")

_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_REFUSED = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
    "InvalidSecurity",
}


_XML_ERROR = re.compile(r"<Code>(?P<code>[^<]*)</Code>\s*<Message>(?P<message>[^<]*)</Message>")


class SqsQueue(Queue):
    """One SQS queue, found by name.

    Args:
        config: its ``[[queues]]`` table (``url = "sqs://<queue-name>"``).

    Raises:
        QueueError: boto3 is not installed (``pip install 'lifecyclegraph[sqs]'``).
    """

    def __init__(self, config: QueueConfig) -> None:
        try:
            import boto3
            import botocore.config
        except ImportError as error:
            raise QueueError(
                f"{config.url}: SQS needs boto3: pip install 'lifecyclegraph[sqs]'", config.url
            ) from error
        self.config = config
        self.name = config.name
        self.queue_name = config.url.partition("://")[2]
        self._boto3 = boto3
        self._client_config = botocore.config.Config(
            # a long poll holds the connection up to 20 s (SQS's most, whatever
            # wait_seconds or ingest --wait asks): read past it
            read_timeout=30,
            connect_timeout=10,
            retries={"mode": "standard", "max_attempts": 3},
        )
        self._client: Any = None
        self._url: str | None = None

    def _where(self) -> str:
        region = self._client.meta.region_name if self._client is not None else None
        endpoint = self.config.endpoint_url or "AWS"
        return f"SQS queue {self.queue_name!r} (region {region}, endpoint {endpoint})"

    def _connect(self) -> None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            NoRegionError,
            PartialCredentialsError,
        )

        if self._url is not None:
            return
        try:
            session = self._boto3.session.Session(
                region_name=self.config.region, profile_name=self.config.profile
            )
            self._client = session.client(
                "sqs", endpoint_url=self.config.endpoint_url, config=self._client_config
            )
            self._url = self._client.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        except NoRegionError as error:
            raise QueueError(
                f"{self.config.url}: no AWS region for SQS queue {self.queue_name!r}: set "
                "region in its [[queues]] table, or AWS_REGION",
                self.config.url,
            ) from error
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise QueueError(
                f"{self.config.url}: no AWS credentials for {self._where()}: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or a role "
                f"({type(error).__name__})",
                self.config.url,
            ) from error
        except ClientError as error:
            raise self._client_error(error) from error
        except BotoCoreError as error:  # endpoint unreachable, profile not found...
            raise QueueError(f"{self.config.url}: {self._where()}: {error}", self.config.url) from (
                error
            )

    def _client_error(self, error: Any) -> QueueError:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        xml = _XML_ERROR.search(message)
        if xml:  # an XML error where boto3 expected JSON (some SQS look-alikes): read it
            code, message = xml["code"], xml["message"]
        if code in _MISSING:
            text = f"{self._where()} does not exist (create it, or fix url, region, endpoint_url)"
        elif code in _REFUSED or status == 403:
            text = f"the AWS credentials were refused by {self._where()}: {code}: {message}"
        else:
            text = f"{self._where()}: {code}: {message}"
        return QueueError(f"{self.config.url}: {text}", self.config.url)

    async def open(self) -> None:
        await asyncio.to_thread(self._connect)

    def _receive(self, wait: float | None) -> list[Message]:
        from botocore.exceptions import BotoCoreError, ClientError

        self._connect()
        seconds = self.config.wait_seconds if wait is None else wait
        try:
            answer = self._client.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=self.config.batch,
                WaitTimeSeconds=min(int(seconds), 20),
                VisibilityTimeout=self.config.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except ClientError as error:
            raise self._client_error(error) from error
        except BotoCoreError as error:
            raise QueueError(f"{self.config.url}: {self._where()}: {error}", self.config.url) from (
                error
            )
        return [
            Message(
                id=item["MessageId"],
                body=item["Body"].encode("utf-8", "surrogatepass"),
                receives=int(item.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                handle=item["ReceiptHandle"],
            )
            for item in answer.get("Messages", [])
        ]

    async def receive(self, wait: float | None = None) -> list[Message]:
        return await asyncio.to_thread(self._receive, wait)

    def _delete(self, messages: Sequence[Message]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(messages), 10):  # SQS deletes 10 at once at most
            chunk = messages[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m.handle} for i, m in enumerate(chunk)]
            try:
                answer = self._client.delete_message_batch(QueueUrl=self._url, Entries=entries)
            except ClientError as error:
                raise self._client_error(error) from error
            except BotoCoreError as error:
                raise QueueError(
                    f"{self.config.url}: {self._where()}: {error}", self.config.url
                ) from error
            for failed in answer.get("Failed", []):
                # the message comes back after its visibility timeout; its events are
                # recorded already, and recording them again changes nothing
                log.warning(
                    "queue %s: message %s not deleted (%s: %s); it will be delivered again",
                    self.name,
                    chunk[int(failed["Id"])].id,
                    failed.get("Code"),
                    failed.get("Message"),
                )

    async def ack(self, messages: Sequence[Message]) -> None:
        if messages:
            await asyncio.to_thread(self._delete, messages)

    async def aclose(self) -> None:
        # A long poll abandoned by a stop may still hold the client in its thread: the
        # client is dropped, not closed under it (its pool closes when it is freed).
        self._client, self._url = None, None

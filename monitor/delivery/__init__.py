"""From matches to people (DESIGN §1): which subscriber gets which item (``routing``), digest
schedules (``schedule``), the outbox that groups what is owed into digests (``outbox``), their
sending with retries and dead letters (``dispatch``), and each subscriber's delivery history
(``history``)."""

"""The database schema as sqlite-utils migrations, applied automatically on open.

The only schema code. Tables are meant to be read by users with SQL or Datasette.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("newsmon")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """
        create table feeds (
            id integer primary key,
            url text not null unique,
            title text,
            site_url text,
            tags text not null default '[]',
            interval_seconds integer,
            etag text,
            last_modified text,
            next_check_at text not null,
            last_checked_at text,
            last_ok_at text,
            last_error text,
            last_error_at text,
            consecutive_failures integer not null default 0,
            disabled integer not null default 0,
            disabled_reason text,
            baseline_done integer not null default 0,
            added_at text not null
        )"""
    )
    db.execute("create index feeds_next_check on feeds(disabled, next_check_at)")
    db.execute(
        """
        create table items (
            id text primary key,
            feed_id integer not null,
            key text not null,
            title text not null default '',
            link text,
            summary text not null default '',
            content text not null default '',
            author text,
            published text,
            fetched_at text not null,
            unique (feed_id, key)
        )"""
    )
    db.execute("create index items_fetched on items(fetched_at)")
    db.execute(
        """
        create table matches (
            id integer primary key,
            item_id text not null references items(id),
            rule_id text not null,
            rule_title text not null,
            severity text not null,
            evidence text not null default '[]',
            created_at text not null,
            label text check (label in ('relevant', 'irrelevant')),
            labelled_at text,
            note text,
            unique (item_id, rule_id)
        )"""
    )
    db.execute("create index matches_created on matches(created_at)")
    db.execute(
        """
        create table deliveries (
            id integer primary key,
            event_id text not null,
            destination text not null,
            event_type text not null,
            payload text not null,
            status text not null default 'pending'
                check (status in ('pending', 'sent', 'dead')),
            attempts integer not null default 0,
            next_attempt_at text not null,
            last_attempt_at text,
            last_status integer,
            last_error text,
            created_at text not null,
            sent_at text,
            match_id integer references matches(id),
            unique (event_id, destination)
        )"""
    )
    db.execute("create index deliveries_due on deliveries(status, next_attempt_at)")
    db.table("items").enable_fts(["title", "summary", "content"], create_triggers=True)


@migrations(transactional=False)
def m002_wal(db: Database) -> None:
    db.enable_wal()


@migrations()
def m003_statuses(db: Database) -> None:
    db.execute(
        """
        create table statuses (
            id integer primary key,
            subject text not null,
            jurisdiction text not null,
            state text not null,
            target text not null,
            event_at text not null,
            item_id text references items(id),
            rule_id text,
            evidence text not null default '[]',
            source text not null default '',
            recorded_at text not null,
            changed_from text,
            conflict integer not null default 0,
            seed_key text unique
        )"""
    )
    db.execute("create index statuses_pair on statuses(subject, jurisdiction, event_at)")


@migrations()
def m004_delivery_state(db: Database) -> None:
    # `batch`: deliveries sent together as one digest message (a digest window or a storm).
    db.execute("alter table deliveries add column batch text")
    db.execute(
        """
        create table destinations (
            name text primary key,
            disabled integer not null default 0,
            disabled_reason text,
            disabled_at text,
            last_success_at text,
            last_error text,
            last_error_at text,
            consecutive_failures integer not null default 0,
            paused_until text
        )"""
    )
    db.execute("alter table feeds add column content_hash text")
    db.execute("alter table feeds add column broken_since text")
    db.execute("alter table feeds add column broken_notified integer not null default 0")


@migrations()
def m005_moved_feeds(db: Database) -> None:
    # The URL a feed had before a permanent redirect, so the config's old URL still names it.
    db.execute("alter table feeds add column moved_from text")


@migrations()
def m006_destination_outage(db: Database) -> None:
    # When the destination's current run of failures began (null while it succeeds).
    db.execute("alter table destinations add column failing_since text")


# The FTS index is filled in batches, not by a per-row insert trigger: the trigger made
# every item insert about 4x slower (issue 6). `fts_indexed.max_rowid` is the watermark:
# items with a rowid at or below it are in `items_fts`, later ones are not yet. Store.
# index_items() moves it; deletes and updates of indexed rows keep the index consistent
# through the triggers below (unindexed rows are read from `items` when they are indexed).
FTS_COLUMNS = ("title", "summary", "content")


@migrations()
def m007_batched_fts(db: Database) -> None:
    db.execute(
        """
        create table fts_indexed (
            table_name text primary key,
            max_rowid integer not null
        )"""
    )
    # Every existing item was indexed by the old insert trigger.
    db.execute(
        "insert into fts_indexed values ('items', (select coalesce(max(rowid), 0) from items))"
    )
    for name in ("items_ai", "items_ad", "items_au"):
        db.execute(f"drop trigger if exists [{name}]")
    cols = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
    old = ", ".join(f"old.[{c}]" for c in FTS_COLUMNS)
    new = ", ".join(f"new.[{c}]" for c in FTS_COLUMNS)
    mark = "(select max_rowid from fts_indexed where table_name = 'items')"
    db.execute(
        f"""
        create trigger items_ad after delete on items when old.rowid <= {mark} begin
          insert into items_fts (items_fts, rowid, {cols}) values ('delete', old.rowid, {old});
          -- After the highest rowid is deleted SQLite reuses it: it must land above the mark.
          update fts_indexed set max_rowid =
            (select coalesce(max(rowid), 0) from items where rowid <= fts_indexed.max_rowid)
          where table_name = 'items';
        end"""
    )
    # One trigger, not two: the 'delete' of the old text must run before the insert of the
    # new, and SQLite does not promise an order between triggers.
    db.execute(
        f"""
        create trigger items_au after update on items begin
          insert into items_fts (items_fts, rowid, {cols})
            select 'delete', old.rowid, {old} where old.rowid <= {mark};
          insert into items_fts (rowid, {cols})
            select new.rowid, {new} where new.rowid <= {mark};
        end"""
    )

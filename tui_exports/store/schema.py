"""Schema migrations of the library.

Each migration is a list of SQL statements applied once, in order, inside one
transaction; ``schema_migrations`` records which ran.  Opening an older library
applies the missing ones, so a library made by an older release upgrades itself.
Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "course content and exports",
        [
            """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)""",
            """CREATE TABLE users (
                id INTEGER PRIMARY KEY, name TEXT NOT NULL, sortable_name TEXT DEFAULT '',
                short_name TEXT DEFAULT '', login_id TEXT DEFAULT '', email TEXT DEFAULT '',
                time_zone TEXT DEFAULT 'UTC', key TEXT UNIQUE)""",
            """CREATE TABLE courses (
                id INTEGER PRIMARY KEY, name TEXT NOT NULL, course_code TEXT NOT NULL,
                uuid TEXT NOT NULL, workflow_state TEXT NOT NULL DEFAULT 'available',
                start_at TEXT, end_at TEXT, time_zone TEXT DEFAULT 'UTC', term TEXT DEFAULT '',
                syllabus_body TEXT DEFAULT '', organize_epub_by_content_type INTEGER DEFAULT 0,
                license TEXT DEFAULT 'private', locale TEXT DEFAULT 'en',
                default_view TEXT DEFAULT 'modules', host TEXT DEFAULT 'canvas.local',
                source TEXT DEFAULT '')""",
            """CREATE TABLE enrollments (
                id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                role TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'active')""",
            """CREATE INDEX enrollments_user ON enrollments(user_id)""",
            """CREATE TABLE groups (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                name TEXT NOT NULL)""",
            """CREATE TABLE group_memberships (
                group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                user_id INTEGER NOT NULL REFERENCES users(id), PRIMARY KEY (group_id, user_id))""",
            """CREATE TABLE folders (
                id INTEGER PRIMARY KEY, context_type TEXT NOT NULL, context_id INTEGER NOT NULL,
                parent_id INTEGER REFERENCES folders(id), name TEXT NOT NULL,
                full_name TEXT NOT NULL, position INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0,
                locked INTEGER DEFAULT 0, lock_at TEXT, unlock_at TEXT)""",
            """CREATE INDEX folders_context ON folders(context_type, context_id)""",
            """CREATE TABLE files (
                id INTEGER PRIMARY KEY, context_type TEXT NOT NULL, context_id INTEGER NOT NULL,
                folder_id INTEGER NOT NULL REFERENCES folders(id), display_name TEXT NOT NULL,
                filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
                sha256 TEXT NOT NULL, uuid TEXT NOT NULL, hidden INTEGER DEFAULT 0,
                locked INTEGER DEFAULT 0, lock_at TEXT, unlock_at TEXT,
                created_at TEXT, updated_at TEXT)""",
            """CREATE INDEX files_context ON files(context_type, context_id)""",
            """CREATE TABLE pages (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                url TEXT NOT NULL, title TEXT NOT NULL, body TEXT DEFAULT '',
                published INTEGER DEFAULT 1, front_page INTEGER DEFAULT 0,
                editing_roles TEXT DEFAULT 'teachers', created_at TEXT, updated_at TEXT,
                todo_date TEXT, UNIQUE (course_id, url))""",
            """CREATE TABLE assignment_groups (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                name TEXT NOT NULL, position INTEGER DEFAULT 0, group_weight REAL DEFAULT 0,
                drop_lowest INTEGER DEFAULT 0, drop_highest INTEGER DEFAULT 0)""",
            """CREATE TABLE rubrics (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                title TEXT NOT NULL, points_possible REAL DEFAULT 0,
                free_form_criterion_comments INTEGER DEFAULT 0, criteria TEXT DEFAULT '[]')""",
            """CREATE TABLE assignments (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                title TEXT NOT NULL, description TEXT DEFAULT '', assignment_group_id INTEGER,
                points_possible REAL, grading_type TEXT DEFAULT 'points',
                submission_types TEXT DEFAULT '[]', due_at TEXT, unlock_at TEXT, lock_at TEXT,
                published INTEGER DEFAULT 1, position INTEGER DEFAULT 0, rubric_id INTEGER,
                allowed_extensions TEXT DEFAULT '[]', peer_reviews INTEGER DEFAULT 0,
                quiz_id INTEGER, discussion_topic_id INTEGER)""",
            """CREATE TABLE quizzes (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                title TEXT NOT NULL, description TEXT DEFAULT '', quiz_type TEXT DEFAULT 'assignment',
                points_possible REAL, time_limit INTEGER, allowed_attempts INTEGER DEFAULT 1,
                shuffle_answers INTEGER DEFAULT 0, scoring_policy TEXT DEFAULT 'keep_highest',
                show_correct_answers INTEGER DEFAULT 1, one_question_at_a_time INTEGER DEFAULT 0,
                cant_go_back INTEGER DEFAULT 0, hide_results TEXT, access_code TEXT DEFAULT '',
                due_at TEXT, unlock_at TEXT, lock_at TEXT, published INTEGER DEFAULT 1,
                assignment_group_id INTEGER, assignment_id INTEGER)""",
            """CREATE TABLE quiz_groups (
                id INTEGER PRIMARY KEY,
                quiz_id INTEGER NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
                name TEXT DEFAULT '', pick_count INTEGER DEFAULT 1,
                question_points REAL DEFAULT 1, position INTEGER DEFAULT 0)""",
            """CREATE TABLE quiz_questions (
                id INTEGER PRIMARY KEY,
                quiz_id INTEGER NOT NULL REFERENCES quizzes(id) ON DELETE CASCADE,
                group_id INTEGER, position INTEGER DEFAULT 0, question_type TEXT NOT NULL,
                name TEXT DEFAULT '', question_text TEXT DEFAULT '', points_possible REAL DEFAULT 1,
                answers TEXT DEFAULT '[]', correct_comments TEXT DEFAULT '',
                incorrect_comments TEXT DEFAULT '', neutral_comments TEXT DEFAULT '',
                matching_distractors TEXT DEFAULT '[]', calculated TEXT)""",
            """CREATE INDEX quiz_questions_quiz ON quiz_questions(quiz_id)""",
            """CREATE TABLE discussion_topics (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                title TEXT NOT NULL, message TEXT DEFAULT '', is_announcement INTEGER DEFAULT 0,
                published INTEGER DEFAULT 1, posted_at TEXT, delayed_post_at TEXT, lock_at TEXT,
                pinned INTEGER DEFAULT 0, discussion_type TEXT DEFAULT 'threaded',
                require_initial_post INTEGER DEFAULT 0, position INTEGER DEFAULT 0,
                assignment_id INTEGER)""",
            """CREATE TABLE calendar_events (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                title TEXT NOT NULL, description TEXT DEFAULT '', start_at TEXT, end_at TEXT,
                all_day INTEGER DEFAULT 0, location_name TEXT DEFAULT '')""",
            """CREATE TABLE modules (
                id INTEGER PRIMARY KEY,
                course_id INTEGER NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                name TEXT NOT NULL, position INTEGER DEFAULT 0, published INTEGER DEFAULT 1,
                unlock_at TEXT, require_sequential_progress INTEGER DEFAULT 0,
                prerequisite_ids TEXT DEFAULT '[]')""",
            """CREATE TABLE module_items (
                id INTEGER PRIMARY KEY,
                module_id INTEGER NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
                content_type TEXT NOT NULL, content_id INTEGER, title TEXT DEFAULT '',
                url TEXT DEFAULT '', position INTEGER DEFAULT 0, indent INTEGER DEFAULT 0,
                published INTEGER DEFAULT 1, new_tab INTEGER DEFAULT 0)""",
            """CREATE TABLE progress (
                id INTEGER PRIMARY KEY, context_type TEXT NOT NULL, context_id INTEGER,
                user_id INTEGER, tag TEXT NOT NULL, completion REAL DEFAULT 0,
                workflow_state TEXT NOT NULL, message TEXT, results TEXT,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
            """CREATE TABLE attachments (
                id INTEGER PRIMARY KEY, context_type TEXT NOT NULL, context_id INTEGER NOT NULL,
                uuid TEXT NOT NULL, display_name TEXT NOT NULL, filename TEXT NOT NULL,
                content_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
                path TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
            """CREATE TABLE content_exports (
                id INTEGER PRIMARY KEY, context_type TEXT NOT NULL, context_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL, export_type TEXT NOT NULL, workflow_state TEXT NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL, progress REAL DEFAULT 0,
                settings TEXT DEFAULT '{}', attachment_id INTEGER, progress_id INTEGER,
                epub_export_id INTEGER, runner_pid INTEGER, heartbeat_at TEXT)""",
            """CREATE INDEX content_exports_context ON content_exports(context_type, context_id)""",
            """CREATE TABLE epub_exports (
                id INTEGER PRIMARY KEY, course_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                content_export_id INTEGER, workflow_state TEXT NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL, progress_id INTEGER,
                epub_attachment_id INTEGER, zip_attachment_id INTEGER,
                settings TEXT DEFAULT '{}', runner_pid INTEGER, heartbeat_at TEXT)""",
            """CREATE TABLE notifications (
                id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL,
                context_type TEXT NOT NULL, context_id INTEGER NOT NULL, subject TEXT NOT NULL,
                body TEXT DEFAULT '', created_at TEXT NOT NULL, read INTEGER DEFAULT 0)""",
        ],
    ),
    (
        2,
        "API access tokens",
        [
            """CREATE TABLE access_tokens (
                id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                token_hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, purpose TEXT DEFAULT '',
                created_at TEXT NOT NULL, last_used_at TEXT)""",
        ],
    ),
    (
        3,
        "exports made on remote Canvas instances",
        [
            """CREATE TABLE remote_exports (
                id INTEGER PRIMARY KEY, base_url TEXT NOT NULL, kind TEXT NOT NULL,
                remote_id INTEGER NOT NULL, course_id INTEGER, export_type TEXT NOT NULL,
                workflow_state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                download_path TEXT, UNIQUE (base_url, kind, remote_id))""",
        ],
    ),
    (
        4,
        "where each downloaded remote file is on disk (an ePub export has two files)",
        [
            """CREATE TABLE remote_downloads (
                base_url TEXT NOT NULL, file_id INTEGER NOT NULL, path TEXT NOT NULL,
                downloaded_at TEXT NOT NULL, PRIMARY KEY (base_url, file_id))""",
        ],
    ),
    (
        5,
        "no history of remote exports (Canvas lists them; remote_downloads says where their files went)",
        ["""DROP TABLE IF EXISTS remote_exports"""],
    ),
    (
        6,
        "export files and course files share one id space: renumber export files whose id a course file has",
        [
            # Canvas's Attachment ids are one space; ours were two tables counting from 1 each.
            # Only the clashing export files move, to ids above both tables; the exports that
            # point at them follow. (New rows take 1 + the highest id of both tables.)
            """CREATE TEMP TABLE attachment_renumbering AS
                SELECT a.id AS old_id,
                       (SELECT MAX(m) FROM (SELECT COALESCE(MAX(id), 0) AS m FROM files
                                            UNION ALL SELECT COALESCE(MAX(id), 0) FROM attachments))
                       + ROW_NUMBER() OVER (ORDER BY a.id) AS new_id
                FROM attachments a WHERE a.id IN (SELECT id FROM files)""",
            """UPDATE content_exports SET attachment_id =
                (SELECT new_id FROM attachment_renumbering WHERE old_id = attachment_id)
                WHERE attachment_id IN (SELECT old_id FROM attachment_renumbering)""",
            """UPDATE epub_exports SET epub_attachment_id =
                (SELECT new_id FROM attachment_renumbering WHERE old_id = epub_attachment_id)
                WHERE epub_attachment_id IN (SELECT old_id FROM attachment_renumbering)""",
            """UPDATE epub_exports SET zip_attachment_id =
                (SELECT new_id FROM attachment_renumbering WHERE old_id = zip_attachment_id)
                WHERE zip_attachment_id IN (SELECT old_id FROM attachment_renumbering)""",
            """UPDATE attachments SET id = (SELECT new_id FROM attachment_renumbering WHERE old_id = id)
                WHERE id IN (SELECT old_id FROM attachment_renumbering)""",
            """DROP TABLE temp.attachment_renumbering""",
        ],
    ),
    (
        7,
        "a user's courses by id: a page of a long course list, and one course's enrollments",
        [
            """CREATE INDEX enrollments_user_course ON enrollments(user_id, course_id)""",
            """CREATE INDEX enrollments_course ON enrollments(course_id)""",
            """DROP INDEX enrollments_user""",
        ],
    ),
    (
        8,
        "bulk runs: many (course, format) items exported into one folder, resumable",
        [
            """CREATE TABLE bulk_runs (
                id INTEGER PRIMARY KEY, source TEXT NOT NULL, out_dir TEXT NOT NULL,
                formats TEXT NOT NULL, settings TEXT DEFAULT '{}', workflow_state TEXT NOT NULL,
                message TEXT DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
            """CREATE TABLE bulk_items (
                id INTEGER PRIMARY KEY,
                run_id INTEGER NOT NULL REFERENCES bulk_runs(id) ON DELETE CASCADE,
                course_id INTEGER, course_code TEXT DEFAULT '', package TEXT DEFAULT '',
                format TEXT NOT NULL, workflow_state TEXT NOT NULL, attempts INTEGER DEFAULT 0,
                path TEXT, size INTEGER, sha256 TEXT, warnings TEXT DEFAULT '[]', error TEXT,
                ran_on TEXT, updated_at TEXT NOT NULL)""",
            """CREATE INDEX bulk_items_run ON bulk_items(run_id, workflow_state)""",
        ],
    ),
    (
        9,
        "a course's content walked in course order a page at a time (exports hold no outline)",
        [
            """CREATE INDEX module_items_module ON module_items(module_id, position, id)""",
            """CREATE INDEX modules_course ON modules(course_id, position, id)""",
            """CREATE INDEX assignments_course ON assignments(course_id, position, id)""",
            """CREATE INDEX discussion_topics_course ON discussion_topics(course_id, position, id)""",
            """CREATE INDEX calendar_events_course ON calendar_events(course_id, start_at, id)""",
            """CREATE INDEX quizzes_course ON quizzes(course_id)""",
            """CREATE INDEX quiz_groups_quiz ON quiz_groups(quiz_id)""",
        ],
    ),
    (
        10,
        "bulk items on Canvas: the export made for an item, followed again on resume",
        [
            """ALTER TABLE bulk_items ADD COLUMN remote_export TEXT""",
        ],
    ),
    (
        11,
        "a course's walks read along indexes of their own sort keys (migration 9's sorted again)",
        [
            # the keys of store.content.WALKS, expression for expression (NULLs first, as Canvas)
            # IF NOT EXISTS: a development build's migration 9 made it already
            """CREATE INDEX IF NOT EXISTS pages_course ON pages(course_id)""",
            """DROP INDEX modules_course""",
            """CREATE INDEX modules_course
                ON modules(course_id, ifnull(position, -9223372036854775808), id)""",
            """DROP INDEX assignments_course""",
            """CREATE INDEX assignments_course
                ON assignments(course_id, ifnull(position, -9223372036854775808), id)""",
            """DROP INDEX discussion_topics_course""",
            """CREATE INDEX discussion_topics_course
                ON discussion_topics(course_id, ifnull(position, -9223372036854775808), id)""",
            """DROP INDEX calendar_events_course""",
            """CREATE INDEX calendar_events_course ON calendar_events(course_id, ifnull(start_at, ''), id)""",
        ],
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]

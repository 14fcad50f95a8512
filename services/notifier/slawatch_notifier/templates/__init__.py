"""The default message templates, packaged with the notifier.

``email_subject.txt``, ``email_text.txt``, ``email_html.html`` and ``chat_text.txt``
are rendered by :func:`slawatch_notifier.messages.render` with the context that
:func:`slawatch_notifier.templates.context.view` builds (its docstring lists the
fields). Copy one into the notifier's templates directory to change it; the others
keep their defaults.
"""
